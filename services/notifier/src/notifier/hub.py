"""The browsers this replica holds, by ticket, and how a status reaches them once, in order."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import Any

from aiohttp import web

from shared import logging

log = logging.get(__name__)


class Subscriber:
    __slots__ = ("last_version", "lock", "ws")

    def __init__(self, ws: web.WebSocketResponse) -> None:
        self.ws = ws
        self.last_version = 0
        self.lock = asyncio.Lock()

    async def push(self, message: dict[str, Any]) -> bool:
        """Send unless this or a newer version was already sent; True if sent."""
        async with self.lock:
            if message["version"] <= self.last_version or self.ws.closed:
                return False
            self.last_version = message["version"]
            try:
                await self.ws.send_json(message)
            except ConnectionError:
                return False
            return True


class Hub:
    def __init__(self) -> None:
        self._subs: dict[str, set[Subscriber]] = defaultdict(set)

    def add(self, ticket_id: str, sub: Subscriber) -> None:
        self._subs[ticket_id].add(sub)

    def remove(self, ticket_id: str, sub: Subscriber) -> None:
        subs = self._subs.get(ticket_id)
        if subs is not None:
            subs.discard(sub)
            if not subs:
                del self._subs[ticket_id]

    def get(self, ticket_id: str) -> list[Subscriber]:
        return list(self._subs.get(ticket_id, ()))

    def sockets(self) -> list[web.WebSocketResponse]:
        return [sub.ws for subs in self._subs.values() for sub in subs]

    def __len__(self) -> int:
        return sum(len(s) for s in self._subs.values())
