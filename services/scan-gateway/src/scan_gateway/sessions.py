"""Scan sessions: the phone's proof that it is the WeChat user who scanned a ticket,
and the WeChat session keys, which never leave this service."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass

import redis.asyncio as aioredis
from redis.asyncio.client import Pipeline

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

    def prepare(
        self, session: ScanSession, session_key: str, ttl: int
    ) -> tuple[str, Callable[[Pipeline], object]]:
        """A new session token, and the writes that store it, to queue on a pipeline."""
        token = ids.secret_token()
        key = self._keys.scan_session(ids.sha256_hex(token))
        value = json.dumps(asdict(session))
        # Kept for the legacy encryptedData path and checksession; the latest one wins.
        sk_key = f"{self._keys.ns}:mp-sk:{session.appid}:{session.openid}"

        def store(pipe: Pipeline) -> None:
            # Two keys in two hash slots: a plain pipeline, no MULTI, so Cluster accepts it.
            pipe.set(key, value, ex=max(ttl, 1))
            pipe.set(sk_key, session_key, ex=7200)

        return token, store

    async def require(self, token: str, ticket: str) -> ScanSession:
        raw = await self._redis.get(self._keys.scan_session(ids.sha256_hex(token)))
        if raw is None:
            raise InvalidSession()
        session = ScanSession(**json.loads(raw))
        if session.ticket != ticket:
            # A session from another ticket: this phone did not scan this one.
            raise NotScanner()
        return session
