"""The faults the chaos suite puts the cluster through do what they say, and the cluster
comes back whole after each: a killed node rejoins, a killed master returns as a replica."""

from __future__ import annotations

import asyncio
import time

import pytest

from cluster import Cluster
from shared.redis import close_redis, open_redis

pytestmark = [pytest.mark.real, pytest.mark.timeout(300)]


async def test_a_killed_quorum_leader_is_replaced_and_its_node_rejoins(cluster: Cluster) -> None:
    await cluster.use_store(cluster.store)  # the services declare the work queues
    queue = f"{cluster.namespace}.account.tickets-confirmed"
    leader = await cluster.queue_leader(queue)
    await cluster.kill(leader)
    try:
        assert await cluster.wait_queue_leader(queue, not_on=leader) != leader
    finally:
        await cluster.restart(leader)  # returns once all three nodes run in one cluster
    # Its member of the queue comes back with it and catches up from the leader's log.
    deadline = time.monotonic() + 30
    while len(await online_members(cluster, queue)) < 3:
        assert time.monotonic() < deadline, await cluster.queues()
        await asyncio.sleep(0.5)  # each look is a rabbitmqctl call


async def online_members(cluster: Cluster, queue: str) -> list[str]:
    rows = {q["name"]: q for q in await cluster.queues()}
    online: list[str] = rows[queue]["online"]
    return online


async def test_a_killed_redis_cluster_master_is_replaced_by_its_replica(cluster: Cluster) -> None:
    before = await cluster.redis_masters()
    victim = sorted(before)[0]
    promoted = await cluster.fail_redis_master(victim)
    assert promoted in before[victim]
    redis = open_redis(cluster.redis_cluster_url)
    try:  # every slot is served: a key in each master's range can be written
        for i in range(30):
            await redis.set(f"{cluster.namespace}:probe:{i}", "x", ex=10)
    finally:
        await close_redis(redis)
    await cluster.restart(victim)
    # Back, as the new master's replica, once the cluster tells it the news.
    deadline = time.monotonic() + 30
    while victim not in (await cluster.redis_masters()).get(promoted, []):
        assert time.monotonic() < deadline, await cluster.redis_masters()
        await asyncio.sleep(0.1)  # polling the cluster's view of its nodes


async def test_the_sentinels_promote_a_replica_when_the_primary_is_killed(
    cluster: Cluster,
) -> None:
    old = await cluster.sentinel_primary()
    new = await cluster.fail_sentinel_primary()
    assert new != old
    redis = open_redis(cluster.sentinel_url)
    try:
        await redis.set(f"{cluster.namespace}:probe", "x", ex=10)  # the URL follows the move
    finally:
        await close_redis(redis)
    await cluster.restart(old)
