"""Scan sessions: the phone's proof that it is the WeChat user who scanned a ticket,
and the WeChat session keys, which never leave this service."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

import redis.asyncio as aioredis

from shared import ids
from shared.errors import AppError
from shared.keys import Keys
from shared.tickets import NotScanner


class InvalidSession(AppError):
    status = 401
    code = "invalid_session"
    message = "The scan session is unknown or has ended; scan the QR code again."


@dataclass(frozen=True)
class ScanSession:
    ticket: str
    connection_id: str
    openid: str
    unionid: str
    appid: str


class SessionStore:
    def __init__(self, redis: aioredis.Redis, keys: Keys) -> None:
        self._redis = redis
        self._keys = keys

    async def open(self, session: ScanSession, session_key: str, ttl: int) -> str:
        token = ids.secret_token()
        # Two keys in two hash slots: no MULTI, so Redis Cluster accepts it.
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.set(
                self._keys.scan_session(ids.sha256_hex(token)),
                json.dumps(asdict(session)),
                ex=max(ttl, 1),
            )
            # Kept for the legacy encryptedData path and checksession; the latest one wins.
            pipe.set(
                f"{self._keys.ns}:mp-sk:{session.appid}:{session.openid}", session_key, ex=7200
            )
            await pipe.execute()
        return token

    async def require(self, token: str, ticket: str) -> ScanSession:
        raw = await self._redis.get(self._keys.scan_session(ids.sha256_hex(token)))
        if raw is None:
            raise InvalidSession()
        session = ScanSession(**json.loads(raw))
        if session.ticket != ticket:
            # A session from another ticket: this phone did not scan this one.
            raise NotScanner()
        return session
