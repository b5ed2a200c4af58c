"""Scan sessions: the phone's proof that it is the WeChat user who scanned a ticket.

WeChat's session_key is not kept: no call this service makes needs it."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass

import redis.asyncio as aioredis
from redis.asyncio.client import Pipeline

from shared import ids
from shared.errors import AppError
from shared.keys import Keys
from shared.redis import send_writes
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
    # The phone was in another city or country than the PC when it scanned: the connection's
    # far-away policy applies at confirm. (Absent from sessions written before it existed.)
    far_away: bool = False
    proximity: str = "unknown"


class SessionStore:
    def __init__(self, redis: aioredis.Redis, keys: Keys) -> None:
        self._redis = redis
        self._keys = keys

    def prepare(self, session: ScanSession, ttl: int) -> tuple[str, Callable[[Pipeline], object]]:
        """A new session token, and the writes that store it, to queue on a pipeline."""
        token = ids.secret_token()
        key = self._keys.scan_session(ids.sha256_hex(token))
        value = json.dumps(asdict(session))

        def store(pipe: Pipeline) -> None:
            pipe.set(key, value, ex=max(ttl, 1))

        return token, store

    async def store(self, writes: Callable[[Pipeline], object]) -> None:
        """Store a session `prepare` made, on its own (no ticket move goes with it)."""
        await send_writes(self._redis, writes)

    async def require(self, token: str, ticket: str) -> ScanSession:
        raw = await self._redis.get(self._keys.scan_session(ids.sha256_hex(token)))
        if raw is None:
            raise InvalidSession()
        session = ScanSession(**json.loads(raw))
        if session.ticket != ticket:
            # A session from another ticket: this phone did not scan this one.
            raise NotScanner()
        return session
