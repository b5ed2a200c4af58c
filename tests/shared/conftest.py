"""Fixtures for the shared library: Redis (fakeredis and real), a ticket store on a fake clock,
and bus handles (in memory and over the real RabbitMQ), each cleaned up after its test."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence

import pytest
import redis.asyncio as aioredis

from shared.bus import Bus, open_bus
from shared.bus import memory as memory_bus
from shared.bus.rabbit import RabbitBus
from shared.clock import FakeClock
from shared.keys import Keys
from shared.redis import open_redis
from shared.tickets import TicketStore

REAL_REDIS_URL = "redis://127.0.0.1:6379/0"
REAL_AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/"


@pytest.fixture
def ns() -> str:
    """A namespace no other test (or concurrent run) uses: Redis keys, exchange, queues."""
    return f"mlshared{uuid.uuid4().hex[:12]}"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(params=["fakeredis", pytest.param("redis", marks=pytest.mark.real)])
async def redis(request: pytest.FixtureRequest, ns: str) -> AsyncIterator[aioredis.Redis]:
    url = f"memory://{ns}" if request.param == "fakeredis" else REAL_REDIS_URL
    client = open_redis(url)
    try:
        yield client
    finally:
        keys = [k async for k in client.scan_iter(match=Keys(ns).all(), count=1000)]
        if keys:
            await client.delete(*keys)
        await client.aclose()


@pytest.fixture
def keys(ns: str) -> Keys:
    return Keys(ns)


@pytest.fixture
def store(redis: aioredis.Redis, keys: Keys, clock: FakeClock) -> TicketStore:
    return TicketStore(redis, keys, clock)


OpenBus = Callable[..., Awaitable[Bus]]
# Retry delays short enough for a test to see a message through all of them.
FAST_RETRIES = (0.01, 0.02, 0.04, 0.08, 0.16)


@pytest.fixture(
    params=[
        "memory",
        pytest.param("rabbit", marks=pytest.mark.real),
        pytest.param("rabbit-classic", marks=pytest.mark.real),
    ]
)
async def open_test_bus(
    request: pytest.FixtureRequest, ns: str, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[OpenBus]:
    """A factory: each call is one more process ("replica") on the same broker and namespace.

    Every handle is closed afterwards; on RabbitMQ the namespace's queues and exchanges are
    deleted too. The in-memory brokers live in a registry private to this test.
    """
    monkeypatch.setattr(memory_bus, "_BROKERS", {})
    url = f"memory://{ns}" if request.param == "memory" else REAL_AMQP_URL
    queue_type = "classic" if request.param == "rabbit-classic" else "quorum"
    handles: list[Bus] = []
    delays: set[float] = set()  # each names a delay queue of the namespace

    async def open_one(retry_delays: Sequence[float] = FAST_RETRIES) -> Bus:
        bus = await open_bus(url, ns, queue_type, retry_delays=retry_delays)
        handles.append(bus)
        delays.update(retry_delays)
        return bus

    try:
        yield open_one
    finally:
        queues: set[str] = set()
        for bus in handles:
            if isinstance(bus, RabbitBus):
                queues.update(bus.info()["queues"])
            await bus.close()
        if request.param != "memory":
            # A fresh handle: deleting queues under live consumers makes the broker cancel them.
            # With every delay the handles used: their delay queues go too.
            cleaner = await RabbitBus.connect(url, ns, retry_delays=sorted(delays))
            try:
                prefix = f"{ns}."
                await cleaner.delete_everything(
                    [q.removeprefix(prefix) for q in queues if not q.endswith(".dead")]
                )
            finally:
                await cleaner.close()
