"""The services' work queues on the three-node broker are quorum queues with a member on
every node, all online: losing any one node loses no message and stops no consumer."""

from __future__ import annotations

import pytest

from account.consumers import QUEUES
from cluster import Cluster

pytestmark = [pytest.mark.real, pytest.mark.timeout(300)]


async def test_work_queues_are_quorum_queues_with_three_online_members(cluster: Cluster) -> None:
    await cluster.use_store(cluster.store)  # the services declare their queues on start
    queues = {q["name"]: q for q in await cluster.queues()}
    nodes = sorted(cluster.rabbit_node(i) for i in cluster.rabbit_indexes)
    work = [f"{cluster.namespace}.{q}" for q in QUEUES]
    for name in [*work, *(f"{q}.dead" for q in work)]:
        queue = queues[name]
        assert queue["type"] == "quorum", queue
        assert sorted(queue["members"]) == nodes, queue
        assert sorted(queue["online"]) == nodes, queue
        assert queue["leader"] in nodes
