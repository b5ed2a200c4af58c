"""Authorization codes: single use, short-lived, bound to client, redirect URI and PKCE."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass

import redis.asyncio as aioredis
from redis.asyncio.client import Pipeline

from shared import ids
from shared.errors import AppError
from shared.keys import Keys

CODE_TTL = 60
# What a code granted before codes carried their scope granted.
DEFAULT_SCOPE = "openid profile phone"
# Take a code out and mark it used by the grant (sid) its tokens will belong to, in one step:
# {1, the code's grant}, or {2, that sid} if it was already used, or {0} if it never existed
# (or expired).
_TAKE = """
local grant = redis.call('GETDEL', KEYS[1])
if grant then
  redis.call('SET', KEYS[2], ARGV[2], 'EX', ARGV[1])
  return {1, grant}
end
local sid = redis.call('GET', KEYS[2])
if sid then
  return {2, sid}
end
return {0}
"""


# Put a taken code back, if the redemption that took it (ARGV[1], its sid) is still the one
# on record: its tokens were never issued (a store failed on the way), so the client's retry
# of the same request must not look like a stolen code. ARGV[3] is what is left of its life.
_PUT_BACK = """
if redis.call('GET', KEYS[2]) == ARGV[1] then
  redis.call('DEL', KEYS[2])
  redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
  return 1
end
return 0
"""


class InvalidGrant(AppError):
    code = "invalid_grant"
    message = "The authorization code is invalid, expired, already used, or not yours."


@dataclass(frozen=True)
class CodeGrant:
    client_id: str
    redirect_uri: str
    code_challenge: str
    user_id: str
    nonce: str
    connection_id: str
    ticket_id: str
    auth_time: int
    trace_id: str
    scope: str = DEFAULT_SCOPE


class CodeReused(InvalidGrant):
    """A code presented a second time: whoever holds it may have stolen it, so everything
    issued from its first redemption (`sid`) is to be revoked."""

    def __init__(self, sid: str) -> None:
        super().__init__("The authorization code was already used.")
        self.sid = sid


class CodeStore:
    def __init__(self, redis: aioredis.Redis, keys: Keys) -> None:
        self._redis = redis
        self._keys = keys
        self._take = redis.register_script(_TAKE)
        self._put_back = redis.register_script(_PUT_BACK)

    def prepare(self, grant: CodeGrant) -> tuple[str, Callable[[Pipeline], object]]:
        """A new code, and the write that stores it, to queue on a pipeline."""
        code = ids.secret_token()
        key, value = self._keys.auth_code(ids.sha256_hex(code)), json.dumps(asdict(grant))

        def store(pipe: Pipeline) -> None:
            pipe.set(key, value, ex=CODE_TTL)

        return code, store

    async def redeem(
        self, code: str, *, client_id: str, redirect_uri: str, verifier: str, sid: str
    ) -> CodeGrant:
        """Take the code out, marking it used by `sid`, the grant its tokens will belong
        to, and check it. A second redemption raises CodeReused with the first one's sid."""
        digest = ids.sha256_hex(code)
        keys = [self._keys.auth_code(digest), self._keys.auth_code_used(digest)]
        found = await self._take(keys=keys, args=[CODE_TTL * 10, sid])
        if found[0] == 0:
            raise InvalidGrant()
        value = str(found[1])
        if found[0] == 2:
            raise CodeReused(value)
        grant = CodeGrant(**json.loads(value))
        if grant.client_id != client_id:
            raise InvalidGrant("The authorization code was issued to another client.")
        if grant.redirect_uri != redirect_uri:
            raise InvalidGrant("redirect_uri does not match the authorization request.")
        if not verify_pkce(verifier, grant.code_challenge):
            raise InvalidGrant("code_verifier does not match the code_challenge (PKCE S256).")
        return grant

    async def put_back(self, code: str, grant: CodeGrant, *, sid: str, now: float) -> bool:
        """Undo `redeem` by `sid` when no tokens came of it; False if the code had expired
        meanwhile or was redeemed again (then it stays used)."""
        left = int(grant.auth_time + CODE_TTL - now)
        if left < 1:
            return False
        digest = ids.sha256_hex(code)
        keys = [self._keys.auth_code(digest), self._keys.auth_code_used(digest)]
        return bool(await self._put_back(keys=keys, args=[sid, json.dumps(asdict(grant)), left]))


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def verify_pkce(verifier: str, challenge: str) -> bool:
    return hmac.compare_digest(s256(verifier), challenge)
