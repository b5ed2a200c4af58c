"""make test's short chaos scenario: complete logins at a steady rate over the local cluster
(nginx, two replicas of each service, three RabbitMQ nodes, Redis behind Sentinels) while replica 1
of every service is killed with SIGKILL. None may be lost or duplicated, and the first login
started after the kill goes through within the recovery target."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from chaos.fates import Fate
from chaos.faults import fault_named
from chaos.report import RECOVERY_TARGET, render
from chaos.run import Load, run_scenario, sandbox_users
from cluster import Cluster

pytestmark = [pytest.mark.real, pytest.mark.timeout(300)]
REPO = Path(__file__).resolve().parents[2]
# A third of the full suite's rate for 20 s: about 100 logins, the kill 7 s in.
SHORT = Load(rate=5.0, duration=20.0, fault_at=7.0)


@pytest.fixture
async def cluster(tmp_path: Path) -> AsyncIterator[Cluster]:
    # nginx is the one piece the machine may lack; the script installs Debian's.
    await asyncio.to_thread(subprocess.run, [REPO / "scripts" / "ensure-nginx.sh"], check=True)
    started = Cluster.plan(tmp_path / "cluster", namespace="mlchaostest", store="sentinel")
    await started.start()
    try:
        yield started
    finally:
        await started.stop()


async def test_killing_one_replica_of_each_service_loses_and_duplicates_no_login(
    cluster: Cluster,
) -> None:
    openids = await sandbox_users(cluster, 20)
    outcome = await run_scenario(cluster, fault_named("replicas"), SHORT, openids, {})

    t = outcome.tally
    print(render([outcome], SHORT, "pytest tests/chaos", 0))  # noqa: T201
    assert t.started >= 60
    assert t.unfinished == 0
    assert t.fates[Fate.LOST] == 0, outcome.logins
    assert t.fates[Fate.DUPLICATED] == 0
    assert t.fates[Fate.STRANDED] == 0
    assert t.fates[Fate.COMPLETED] > 0
    assert t.recovery is not None
    assert t.recovery <= RECOVERY_TARGET
    # Every killed replica serves again after the scenario (the next one starts whole).
    assert all(cluster.proc(f"{s}-1").alive() for s in ("account", "notifier"))
