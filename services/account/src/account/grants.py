"""Grants: everything issued from one login (one redeemed authorization code), named by its
`sid`. Refresh tokens, for apps that opt in, form the grant's family: each use rotates the
token, and an old one presented again revokes the whole grant (RFC 9700 section 4.14.2).
A revoked grant's access tokens are refused by userinfo until they would have expired.

A refresh token is `<sid>.<secret>`: the sid finds the family (one Redis hash, one Cluster
slot with its revocation marker), the secret is stored only hashed."""

from __future__ import annotations

from dataclasses import dataclass

import redis.asyncio as aioredis

from account.codes import InvalidGrant
from shared import ids
from shared.keys import Keys

# Rotate `presented` (hashed) to `fresh` (hashed) if it is the family's current token and
# the client is the family's own. Returns the family's fields, or a refusal:
#   'revoked' (the grant was revoked), 'unknown' (no such family or token),
#   'other_client', 'reused' (an old token: the family is revoked here and now).
_ROTATE = """
if redis.call('EXISTS', KEYS[2]) == 1 then return 'revoked' end
local fields = redis.call('HMGET', KEYS[1], 'current', 'client_id')
if not fields[1] then return 'unknown' end
if fields[1] == ARGV[1] then
  if fields[2] ~= ARGV[3] then return 'other_client' end
  redis.call('HSET', KEYS[1], 'current', ARGV[2], 'old:' .. ARGV[1], '1')
  redis.call('EXPIRE', KEYS[1], ARGV[4])
  return redis.call('HGETALL', KEYS[1])
end
if redis.call('HEXISTS', KEYS[1], 'old:' .. ARGV[1]) == 1 then
  redis.call('DEL', KEYS[1])
  redis.call('SET', KEYS[2], '1', 'EX', ARGV[5])
  return 'reused'
end
return 'unknown'
"""


# Undo a rotation whose new token (ARGV[2]) was never handed out: `presented` (ARGV[1])
# becomes current again, and not an old token, if the family still has the new one current.
_ROLL_BACK = """
if redis.call('HGET', KEYS[1], 'current') == ARGV[2] then
  redis.call('HSET', KEYS[1], 'current', ARGV[1])
  redis.call('HDEL', KEYS[1], 'old:' .. ARGV[1])
  return 1
end
return 0
"""


class RefreshReused(InvalidGrant):
    message = "The refresh token was already used; every token of its login is now revoked."


@dataclass(frozen=True)
class Family:
    sid: str
    client_id: str
    user_id: str
    scope: str
    auth_time: int


def new_sid() -> str:
    return ids.random_base62(22)


def split_refresh_token(token: str) -> tuple[str, str] | None:
    sid, dot, secret = token.partition(".")
    if not dot or len(sid) != 22 or not sid.isalnum() or not secret:
        return None
    return sid, secret


class GrantStore:
    def __init__(self, redis: aioredis.Redis, keys: Keys, *, access_ttl: int) -> None:
        self._redis = redis
        self._keys = keys
        # A revocation is remembered as long as an access token of the grant may live.
        self._access_ttl = access_ttl
        self._rotate = redis.register_script(_ROTATE)
        self._roll_back = redis.register_script(_ROLL_BACK)

    async def start_family(self, family: Family, *, ttl: int) -> str:
        """The grant's first refresh token."""
        token = f"{family.sid}.{ids.secret_token()}"
        key = self._keys.grant(family.sid)
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.hset(
                key,
                mapping={
                    "current": ids.sha256_hex(token),
                    "client_id": family.client_id,
                    "user_id": family.user_id,
                    "scope": family.scope,
                    "auth_time": str(family.auth_time),
                },
            )
            pipe.expire(key, ttl)
            await pipe.execute()
        return token

    async def rotate(self, token: str, *, client_id: str, ttl: int) -> tuple[Family, str]:
        """The family of `token` and its next refresh token, which replaces it."""
        parts = split_refresh_token(token)
        if parts is None:
            raise InvalidGrant("The refresh token is invalid, expired or revoked.")
        sid = parts[0]
        fresh = f"{sid}.{ids.secret_token()}"
        found = await self._rotate(
            keys=[self._keys.grant(sid), self._keys.grant_revoked(sid)],
            args=[ids.sha256_hex(token), ids.sha256_hex(fresh), client_id, ttl, self._access_ttl],
        )
        if found == "reused":
            raise RefreshReused()
        if found == "other_client":
            raise InvalidGrant("The refresh token was issued to another client.")
        if isinstance(found, str):
            raise InvalidGrant("The refresh token is invalid, expired or revoked.")
        fields = dict(zip(found[::2], found[1::2], strict=True))
        family = Family(
            sid=sid,
            client_id=fields["client_id"],
            user_id=fields["user_id"],
            scope=fields["scope"],
            auth_time=int(fields["auth_time"]),
        )
        return family, fresh

    async def roll_back(self, presented: str, fresh: str) -> bool:
        """Undo `rotate` when its new token never reached the client (a store failed on the
        way): the client's retry with the token it holds must not look like a stolen copy
        and end the login. False if the family moved on or was revoked meanwhile."""
        parts = split_refresh_token(presented)
        if parts is None:
            return False
        args = [ids.sha256_hex(presented), ids.sha256_hex(fresh)]
        return bool(await self._roll_back(keys=[self._keys.grant(parts[0])], args=args))

    async def scope_of(self, token: str) -> str:
        """The scope the login of `token` granted ("" if no such family)."""
        parts = split_refresh_token(token)
        if parts is None:
            return ""
        return str(await self._redis.hget(self._keys.grant(parts[0]), "scope") or "")

    async def family_client(self, token: str) -> str | None:
        """The client a live refresh token (current or old) was issued to."""
        parts = split_refresh_token(token)
        if parts is None:
            return None
        key = self._keys.grant(parts[0])
        digest = ids.sha256_hex(token)
        current, client_id, old = await self._redis.hmget(
            key, ["current", "client_id", f"old:{digest}"]
        )
        if current is None:
            return None  # no such family, or revoked
        return str(client_id) if current == digest or old else None

    async def revoke(self, sid: str) -> None:
        """End the grant: its refresh tokens at once, its access tokens at userinfo."""
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.delete(self._keys.grant(sid))
            pipe.set(self._keys.grant_revoked(sid), "1", ex=self._access_ttl)
            await pipe.execute()

    async def revoke_access(self, sid: str, jti: str, ttl: int) -> None:
        """Refuse one access token (its own remaining lifetime, `ttl`) at userinfo."""
        await self._redis.set(self._keys.access_revoked(sid, jti), "1", ex=max(ttl, 1))

    async def access_refused(self, sid: str, jti: str) -> bool:
        """Whether an access token's grant, or the token itself, was revoked."""
        keys = [self._keys.grant_revoked(sid), self._keys.access_revoked(sid, jti)]
        return bool(await self._redis.exists(*keys))
