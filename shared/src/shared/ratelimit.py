"""Fixed-window rate limits in Redis, shared by every replica."""

from __future__ import annotations

import redis.asyncio as aioredis

from shared.clock import Clock
from shared.errors import RateLimited
from shared.keys import Keys


class RateLimiter:
    def __init__(self, redis: aioredis.Redis, keys: Keys, clock: Clock) -> None:
        self._redis = redis
        self._keys = keys
        self._clock = clock

    async def hit(self, bucket: str, subject: str, *, limit: int, per: int) -> None:
        """Count one use of `bucket` by `subject`; raise RateLimited past `limit` per `per` s."""
        window = int(self._clock.now() // per)
        key = self._keys.rate(bucket, subject, window)
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.incr(key)
            pipe.expire(key, per + 1)
            count, _ = await pipe.execute()
        if int(count) > limit:
            retry = int(per - self._clock.now() % per) + 1
            raise RateLimited(
                f"Too many attempts; retry in {retry} s.", details={"retry_after": retry}
            )
