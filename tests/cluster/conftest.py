"""One cluster for the whole session (cluster.Cluster, as make cluster-up starts it), and the
fixtures the shared ticket-store tests take, over its Redis Cluster and its Sentinel setup."""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from cluster import Cluster
from shared.clock import FakeClock
from shared.keys import Keys
from shared.redis import close_redis, open_redis
from shared.tickets import TicketStore

REPO = Path(__file__).resolve().parents[2]
# Starting takes about 30 s on two shared cores (RabbitMQ forming its cluster is most of it);
# the first test using the fixture pays it.
START_TIMEOUT = 300


@pytest.fixture(scope="session")
def nginx_installed() -> None:
    """nginx is the one piece the machine may lack; the script installs Debian's."""
    subprocess.run([REPO / "scripts" / "ensure-nginx.sh"], check=True)  # noqa: S603


@pytest.fixture(scope="session")
async def cluster(
    nginx_installed: None, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Cluster]:
    """A cluster of the session's own; with ML_CLUSTER_DIR set (what cluster.env names), the
    one make cluster-up started there instead, left running afterwards."""
    if running := os.environ.get("ML_CLUSTER_DIR"):
        yield Cluster.attach(Path(running))
        return
    started = Cluster.plan(tmp_path_factory.mktemp("cluster") / "cluster")
    t0 = time.monotonic()
    await started.start(with_services=False)
    print(f"cluster started in {time.monotonic() - t0:.1f} s: {started.timings}")  # noqa: T201
    try:
        yield started
    finally:
        await started.stop()
        print(f"cluster stopped in {started.timings['stop']:.1f} s")  # noqa: T201


@pytest.fixture
def ns() -> str:
    return f"mlcluster{uuid.uuid4().hex[:12]}"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(params=["redis-cluster", "sentinel"])
async def redis(
    request: pytest.FixtureRequest, cluster: Cluster, ns: str
) -> AsyncIterator[aioredis.Redis]:
    """A client as the services open it, on the Redis Cluster or the Sentinel primary."""
    url = cluster.redis_cluster_url if request.param == "redis-cluster" else cluster.sentinel_url
    client = open_redis(url)
    try:
        yield client
    finally:
        # One key at a time: on a Redis Cluster the keys live in different slots.
        async for key in client.scan_iter(match=Keys(ns).all(), count=1000):
            await client.delete(key)
        await close_redis(client)


@pytest.fixture
def keys(ns: str) -> Keys:
    return Keys(ns)


@pytest.fixture
def store(redis: aioredis.Redis, keys: Keys, clock: FakeClock) -> TicketStore:
    return TicketStore(redis, keys, clock)
