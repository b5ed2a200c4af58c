"""The one-round-trip ticket write: stores what TicketStore stores, counts like RateLimiter."""

from __future__ import annotations

import uuid

import pytest
import redis.asyncio as aioredis

from qr_issuer.issue import TicketWriter, redis_fields
from shared import ids
from shared.clock import FakeClock
from shared.errors import RateLimited
from shared.keys import Keys
from shared.ratelimit import RateLimiter
from shared.redis import open_redis
from shared.tickets import Ticket, TicketStatus, TicketStore

RETENTION = 300


def make_ticket(clock: FakeClock) -> Ticket:
    now = clock.now()
    return Ticket(
        id=ids.ticket_id(),
        status=TicketStatus.PENDING,
        version=1,
        connection_id="wechat",
        client_id="demo",
        redirect_uri="https://app.example.com/callback",
        state="st",
        code_challenge="c" * 43,
        nonce="n",
        binding_hash=ids.sha256_hex("binding"),
        created_at=now,
        expires_at=now + 120,
        trace_id="t" * 32,
        pc_ip="203.0.113.9",
        pc_user_agent="Mozilla/5.0",
        mode="redirect",
    )


@pytest.fixture
def parts() -> tuple[aioredis.Redis, Keys, FakeClock, TicketWriter, TicketStore]:
    redis = open_redis(f"memory://issue-{uuid.uuid4().hex}")
    keys = Keys("t" + uuid.uuid4().hex[:8])
    clock = FakeClock()
    limiter = RateLimiter(redis, keys, clock)
    store = TicketStore(redis, keys, clock)
    return redis, keys, clock, TicketWriter(redis, keys, clock, limiter, store), store


def test_redis_fields_equal_ticket_to_redis() -> None:
    ticket = make_ticket(FakeClock())
    assert redis_fields(ticket) == ticket.to_redis()


async def test_created_ticket_reads_back_like_one_from_the_store(
    parts: tuple[aioredis.Redis, Keys, FakeClock, TicketWriter, TicketStore],
) -> None:
    redis, keys, clock, writer, store = parts
    ours, theirs = make_ticket(clock), make_ticket(clock)
    await writer.create(ours, "203.0.113.9", limit=5, retention=RETENTION)
    await store.create(theirs, RETENTION)
    assert await store.get(ours.id) == ours
    ttl_ours = await redis.pttl(keys.ticket(ours.id))
    ttl_theirs = await redis.pttl(keys.ticket(theirs.id))
    assert abs(ttl_ours - ttl_theirs) < 1000
    assert ttl_ours > (120 + RETENTION - 1) * 1000


async def test_past_the_limit_it_raises_and_stores_nothing(
    parts: tuple[aioredis.Redis, Keys, FakeClock, TicketWriter, TicketStore],
) -> None:
    _, _, clock, writer, store = parts
    first = [make_ticket(clock) for _ in range(3)]
    for t in first:
        await writer.create(t, "198.51.100.1", limit=3, retention=RETENTION)
    refused = make_ticket(clock)
    with pytest.raises(RateLimited) as info:
        await writer.create(refused, "198.51.100.1", limit=3, retention=RETENTION)
    assert 1 <= info.value.details["retry_after"] <= 61
    assert await store.get(refused.id) is None
    assert all([await store.get(t.id) == t for t in first])
    # Another address has its own count.
    await writer.create(make_ticket(clock), "198.51.100.2", limit=3, retention=RETENTION)


async def test_refused_requests_share_the_count_with_created_tickets(
    parts: tuple[aioredis.Redis, Keys, FakeClock, TicketWriter, TicketStore],
) -> None:
    _, _, clock, writer, _ = parts
    await writer.count("192.0.2.7", 2)
    await writer.create(make_ticket(clock), "192.0.2.7", limit=2, retention=RETENTION)
    with pytest.raises(RateLimited):
        await writer.count("192.0.2.7", 2)


async def test_the_window_resets_after_a_minute(
    parts: tuple[aioredis.Redis, Keys, FakeClock, TicketWriter, TicketStore],
) -> None:
    _, _, clock, writer, store = parts
    await writer.create(make_ticket(clock), "192.0.2.8", limit=1, retention=RETENTION)
    with pytest.raises(RateLimited):
        await writer.create(make_ticket(clock), "192.0.2.8", limit=1, retention=RETENTION)
    clock.advance(60)
    later = make_ticket(clock)
    await writer.create(later, "192.0.2.8", limit=1, retention=RETENTION)
    assert await store.get(later.id) == later
