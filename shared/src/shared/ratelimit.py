"""Fixed-window rate limits in Redis, shared by every replica."""

from __future__ import annotations

import redis.asyncio as aioredis

from shared.clock import Clock
from shared.errors import RateLimited
from shared.keys import Keys

# Count a use and start the window's expiry with the first one: one command on the wire
# (a two-command pipeline costs redis-py about as much CPU as three plain commands).
_HIT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return count
"""


class RateLimiter:
    def __init__(self, redis: aioredis.Redis, keys: Keys, clock: Clock) -> None:
        self._redis = redis
        self._keys = keys
        self._clock = clock
        self._hit = redis.register_script(_HIT)

    async def hit(self, bucket: str, subject: str, *, limit: int, per: int) -> None:
        """Count one use of `bucket` by `subject`; raise RateLimited past `limit` per `per` s."""
        window = int(self._clock.now() // per)
        key = self._keys.rate(bucket, subject, window)
        count = await self._hit(keys=[key], args=[per + 1])
        if int(count) > limit:
            retry = int(per - self._clock.now() % per) + 1
            raise RateLimited(
                f"Too many attempts; retry in {retry} s.", details={"retry_after": retry}
            )
