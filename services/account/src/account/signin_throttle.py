"""Password guessing, slowed and never locked out: each failed sign-in of an account, and
each from one IP address, makes the next attempt wait a little longer, up to a short cap.

A hard lockout after N failures would let anyone lock every user out by typing wrong
passwords; a capped delay costs a guesser a great deal (at most one guess per account and
`cap` seconds) and the real owner at most `cap` seconds once.

Every attempt is counted before its password is checked, atomically with the check of the
wait (so a burst of concurrent guesses cannot all slip in at once); a right password then
takes its count back (`succeeded`). Attempts refused for waiting are not counted: they do not
make the wait longer. A subject's count is forgotten `idle` seconds after its last attempt.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import redis.asyncio as aioredis

from shared import ids
from shared.clock import Clock
from shared.keys import Keys

# KEYS[1]: the subject's hash {n: attempts counted, last: when the last was}.
# ARGV: now, free attempts, first delay, cap, idle seconds. Returns {"0", the previous
# last} when the attempt is allowed (and counted), else {the seconds still to wait, ""}.
RESERVE = """
local n = tonumber(redis.call('HGET', KEYS[1], 'n') or '0')
local before = redis.call('HGET', KEYS[1], 'last') or '0'
local now, free = tonumber(ARGV[1]), tonumber(ARGV[2])
local wait = 0
if n >= free then
  wait = math.min(tonumber(ARGV[4]), tonumber(ARGV[3]) * 2 ^ (n - free))
end
local ready = tonumber(before) + wait
if now < ready then return {tostring(ready - now), ''} end
redis.call('HSET', KEYS[1], 'n', n + 1, 'last', ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[5])
return {'0', before}
"""
# Take a counted attempt back: one fewer, and its time replaced by the one before it (ARGV:
# the attempt's time, the one before), unless a later attempt has been counted since.
GIVE_BACK = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('HINCRBY', KEYS[1], 'n', -1) <= 0 then
  redis.call('DEL', KEYS[1])
elseif redis.call('HGET', KEYS[1], 'last') == ARGV[1] then
  redis.call('HSET', KEYS[1], 'last', ARGV[2])
end
return 0
"""


@dataclass(frozen=True)
class Pace:
    """How a subject's waits grow: none for the first `free` failures, then `first` seconds,
    doubling with each further failure, never more than `cap`."""

    free: int
    first: float
    cap: float
    idle: int  # seconds without an attempt after which the count is forgotten

    def wait_after(self, failures: int) -> float:
        if failures < self.free:
            return 0.0
        return min(self.cap, self.first * 2.0 ** (failures - self.free))


# An account: three tries for typos, then 1, 2, 4 ... 30 s.
ACCOUNT_PACE = Pace(free=3, first=1.0, cap=30.0, idle=15 * 60)
# An IP address, which many people may share (an office, a carrier's NAT): more free tries,
# the same cap; it slows one machine trying many accounts (password spraying).
IP_PACE = Pace(free=10, first=1.0, cap=30.0, idle=15 * 60)


@dataclass(frozen=True)
class Counted:
    """One attempt counted on one key: when, and the time of the attempt before it."""

    key: str
    at: str
    before: str


@dataclass(frozen=True)
class Reservation:
    """The counted attempt of one sign-in, to settle once the password is checked."""

    account: Counted
    ip: Counted


class SignInThrottle:
    def __init__(
        self,
        redis: aioredis.Redis,
        keys: Keys,
        clock: Clock,
        *,
        account_pace: Pace = ACCOUNT_PACE,
        ip_pace: Pace = IP_PACE,
    ) -> None:
        self._keys = keys
        self._clock = clock
        self.account_pace = account_pace
        self.ip_pace = ip_pace
        self._reserve = redis.register_script(RESERVE)
        self._give_back = redis.register_script(GIVE_BACK)
        self._redis = redis

    def _account_key(self, login: str) -> str:
        # Hashed: the key names no address or number, and an unknown login is throttled
        # exactly as a known one (its wait says nothing about whether it exists).
        return self._keys.sign_in_throttle("account", ids.sha256_hex(login))

    async def _try(self, key: str, pace: Pace) -> Counted | int:
        """The attempt counted on `key`, or the whole seconds to wait first."""
        now = repr(self._clock.now())
        left, before = await self._reserve(
            keys=[key], args=[now, pace.free, pace.first, pace.cap, pace.idle]
        )
        if float(left) > 0:
            return max(1, math.ceil(float(left)))
        return Counted(key, now, str(before))

    async def _wait(self, key: str, pace: Pace) -> int:
        """The whole seconds `key` must still wait, counting nothing."""
        n, last = await self._redis.hmget(key, ["n", "last"])
        if n is None or last is None:
            return 0
        left = float(last) + pace.wait_after(int(n)) - self._clock.now()
        return max(0, math.ceil(left))

    async def _return(self, counted: Counted) -> None:
        await self._give_back(keys=[counted.key], args=[counted.at, counted.before])

    async def reserve(self, login: str, ip: str) -> Reservation | int:
        """Count an attempt at `login` (one spelling per account: canonical_login) from `ip`:
        the reservation, or the whole seconds to wait before trying again. Two keys, two
        scripts (they may live on different Cluster slots): the IP is counted first and given
        back when the account must wait."""
        account_key = self._account_key(login)
        by_ip = await self._try(self._keys.sign_in_throttle("ip", ip), self.ip_pace)
        if isinstance(by_ip, int):
            # Told the longer of the two waits: trying after the IP's alone would be refused.
            return max(by_ip, await self._wait(account_key, self.account_pace))
        on_account = await self._try(account_key, self.account_pace)
        if isinstance(on_account, int):
            await self._return(by_ip)
            return on_account
        return Reservation(on_account, by_ip)

    async def succeeded(self, res: Reservation) -> None:
        """The password was right: the account starts afresh and the IP gets its try back."""
        await self._redis.delete(res.account.key)
        await self._return(res.ip)
