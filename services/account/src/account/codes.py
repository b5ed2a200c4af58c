"""Authorization codes: single use, short-lived, bound to client, redirect URI and PKCE."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import asdict, dataclass

import redis.asyncio as aioredis

from shared import ids
from shared.errors import AppError
from shared.keys import Keys

CODE_TTL = 60


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


class CodeStore:
    def __init__(self, redis: aioredis.Redis, keys: Keys) -> None:
        self._redis = redis
        self._keys = keys

    async def issue(self, grant: CodeGrant) -> str:
        code = ids.secret_token()
        await self._redis.set(
            self._keys.auth_code(ids.sha256_hex(code)), json.dumps(asdict(grant)), ex=CODE_TTL
        )
        return code

    async def redeem(
        self, code: str, *, client_id: str, redirect_uri: str, verifier: str
    ) -> CodeGrant:
        """Take the code out (GETDEL: a second redemption finds nothing) and check it."""
        digest = ids.sha256_hex(code)
        raw = await self._redis.getdel(self._keys.auth_code(digest))
        if raw is None:
            used = await self._redis.exists(self._keys.auth_code_used(digest))
            raise InvalidGrant("The authorization code was already used." if used else None)
        await self._redis.set(self._keys.auth_code_used(digest), "1", ex=CODE_TTL * 10)
        grant = CodeGrant(**json.loads(raw))
        if grant.client_id != client_id:
            raise InvalidGrant("The authorization code was issued to another client.")
        if grant.redirect_uri != redirect_uri:
            raise InvalidGrant("redirect_uri does not match the authorization request.")
        if not verify_pkce(verifier, grant.code_challenge):
            raise InvalidGrant("code_verifier does not match the code_challenge (PKCE S256).")
        return grant


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def verify_pkce(verifier: str, challenge: str) -> bool:
    return hmac.compare_digest(s256(verifier), challenge)
