"""Fixed-window rate limits in Redis, shared by every replica."""

from __future__ import annotations

from dataclasses import dataclass

import redis.asyncio as aioredis

from shared.clock import Clock
from shared.errors import RateLimited
from shared.keys import Keys

# Count a use and start the window's expiry with the first one: one command on the wire
# (a two-command pipeline costs redis-py about as much CPU as three plain commands).
COUNT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return count
"""
# Take one use back, only while the window's key lives (a DECR after it expired would leave
# a key without an expiry).
REFUND = """
if redis.call('EXISTS', KEYS[1]) == 1 then return redis.call('DECR', KEYS[1]) end
return 0
"""


@dataclass(frozen=True)
class Window:
    """One subject's counter in the current window of a limit, for a script that counts it
    together with other work (TicketStore.create): INCR it, EXPIRE it on the first use."""

    key: str
    expiry: int  # seconds, a little past the window's end
    limit: int
    retry_after: int  # seconds until the next window

    def check(self, count: int) -> None:
        """Raise RateLimited when `count` uses in this window are past the limit."""
        if count > self.limit:
            raise RateLimited(
                f"Too many attempts; retry in {self.retry_after} s.",
                retry_after=self.retry_after,
            )


class RateLimiter:
    def __init__(self, redis: aioredis.Redis, keys: Keys, clock: Clock) -> None:
        self._redis = redis
        self._keys = keys
        self._clock = clock
        self._count = redis.register_script(COUNT)
        self._refund = redis.register_script(REFUND)

    def window(self, bucket: str, subject: str, *, limit: int, per: int) -> Window:
        now = self._clock.now()
        key = self._keys.rate(bucket, subject, int(now // per))
        return Window(key, per + 1, limit, int(per - now % per) + 1)

    async def hit(self, bucket: str, subject: str, *, limit: int, per: int) -> Window:
        """Count one use of `bucket` by `subject`; raise RateLimited past `limit` per `per` s.
        Returns the window counted in, for `refund`."""
        window = self.window(bucket, subject, limit=limit, per=per)
        window.check(int(await self._count(keys=[window.key], args=[window.expiry])))
        return window

    async def refund(self, window: Window) -> None:
        """Take back a use `hit` counted: a limit on failures counts every attempt first
        (so concurrent attempts cannot all slip under it) and refunds the ones that pass."""
        await self._refund(keys=[window.key])
