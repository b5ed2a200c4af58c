"""One cluster for the whole session (cluster.Cluster, as make cluster-up starts it), and the
fixtures the shared ticket-store tests take, over its Redis Cluster and its Sentinel setup."""

from __future__ import annotations

import subprocess
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from cluster import Cluster, running_cluster
from shared.clock import FakeClock
from shared.keys import Keys
from shared.redis import close_redis, open_redis
from shared.tickets import TicketStore

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def nginx_installed() -> None:
    """nginx is the one piece the machine may lack; the script installs Debian's."""
    subprocess.run([REPO / "scripts" / "ensure-nginx.sh"], check=True)  # noqa: S603


@pytest.fixture(scope="session")
async def cluster(
    nginx_installed: None, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Cluster]:
    """A cluster of the session's own (services started by the first test needing them), or
    make cluster-up's when ML_CLUSTER_DIR names it."""
    t0 = time.monotonic()
    root = tmp_path_factory.mktemp("cluster") / "cluster"
    async with running_cluster(root, with_services=False) as started:
        print(f"cluster ready in {time.monotonic() - t0:.1f} s: {started.timings}")  # noqa: T201
        yield started
    if "stop" in started.timings:
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
