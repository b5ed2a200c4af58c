"""Fixed-window rate limits in Redis, on an injected clock."""

from __future__ import annotations

import pytest
import redis.asyncio as aioredis

from shared.clock import FakeClock
from shared.errors import RateLimited
from shared.keys import Keys
from shared.ratelimit import RateLimiter


@pytest.fixture
def limiter(redis: aioredis.Redis, keys: Keys, clock: FakeClock) -> RateLimiter:
    return RateLimiter(redis, keys, clock)


async def test_hits_up_to_the_limit_pass_and_the_next_is_refused(limiter: RateLimiter) -> None:
    for _ in range(3):
        await limiter.hit("scan", "1.2.3.4", limit=3, per=60)
    with pytest.raises(RateLimited) as info:
        await limiter.hit("scan", "1.2.3.4", limit=3, per=60)
    assert info.value.status == 429
    assert info.value.code == "rate_limited"
    assert 1 <= info.value.details["retry_after"] <= 61


async def test_limit_resets_in_the_next_window(limiter: RateLimiter, clock: FakeClock) -> None:
    clock.advance(-(clock.now() % 60))  # the start of a window
    for _ in range(2):
        await limiter.hit("scan", "s", limit=2, per=60)
    clock.advance(59)
    with pytest.raises(RateLimited) as info:
        await limiter.hit("scan", "s", limit=2, per=60)
    assert info.value.details == {"retry_after": 2}
    clock.advance(1)
    await limiter.hit("scan", "s", limit=2, per=60)
    await limiter.hit("scan", "s", limit=2, per=60)
    with pytest.raises(RateLimited):
        await limiter.hit("scan", "s", limit=2, per=60)


async def test_subjects_and_buckets_are_counted_apart(limiter: RateLimiter) -> None:
    await limiter.hit("scan", "alice", limit=1, per=60)
    await limiter.hit("scan", "bob", limit=1, per=60)
    await limiter.hit("ticket", "alice", limit=1, per=60)
    with pytest.raises(RateLimited):
        await limiter.hit("scan", "alice", limit=1, per=60)


async def test_window_counter_expires_on_its_own(
    limiter: RateLimiter, redis: aioredis.Redis, keys: Keys, clock: FakeClock
) -> None:
    await limiter.hit("scan", "s", limit=5, per=60)
    key = keys.rate("scan", "s", int(clock.now() // 60))
    assert 0 < await redis.ttl(key) <= 61
