"""The waiting PC browser as the hosted page (login.js) behaves: it follows its ticket over
the WebSocket; while the socket is down it polls the status every 2 s and dials again with
backoff."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from typing import Any

from bench.http1 import HttpError
from bench.loadgen import TERMINAL, Client, LoginFailed

# As the hosted page: poll every 2 s while the socket is down; dial again after 0.5 s * 2^n
# (n failures so far), at most 15 s.
POLL_EVERY = 2.0
RECONNECT_BASE = 0.5
RECONNECT_MAX = 15.0
# What a dropped connection or a refused step can raise on our HTTP client.
NETWORK_ERRORS: tuple[type[BaseException], ...] = (OSError, HttpError, asyncio.IncompleteReadError)


class Browser:
    def __init__(self, client: Client, ticket: str, cookie: str) -> None:
        self.client, self.ticket, self.cookie = client, ticket, cookie
        self.last: dict[str, Any] = {}
        self.changed = asyncio.Event()
        self.reconnects = 0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._follow())

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    @property
    def status(self) -> str:
        return str(self.last.get("status", ""))

    def _saw(self, msg: dict[str, Any]) -> None:
        if msg.get("type", "status") == "status" and "status" in msg:
            self.last = msg
            self.changed.set()

    def past_lifetime(self) -> bool:
        """Whether the ticket's lifetime (its `expires_at`, server time on this machine's
        clock) had passed when the browser got its last status: only the notifier's check at
        the end of a ticket's life (the page's 135 s safety net) tells a browser that late."""
        expires_at = self.last.get("expires_at")
        return isinstance(expires_at, int | float) and time.time() >= expires_at

    async def _follow(self) -> None:
        while self.status not in TERMINAL:
            with contextlib.suppress(*NETWORK_ERRORS, LoginFailed, ValueError):
                await self._listen()
            if self.status in TERMINAL:
                return
            self.reconnects += 1
            delay = min(RECONNECT_MAX, RECONNECT_BASE * 2**self.reconnects)
            while delay > 0 and self.status not in TERMINAL:
                with contextlib.suppress(*NETWORK_ERRORS, LoginFailed, ValueError):
                    self._saw(await self.poll())
                await asyncio.sleep(min(POLL_EVERY, delay))
                delay -= POLL_EVERY

    async def _listen(self) -> None:
        url = self.client.url(f"/ws/tickets/{self.ticket}").replace("http", "ws", 1)
        ws = await self.client.http.websocket(url, headers={"Cookie": self.cookie})
        try:
            while (text := await ws.receive()) is not None:
                self._saw(json.loads(text))
                if self.status in TERMINAL:
                    return
        finally:
            await ws.close()

    async def poll(self) -> dict[str, Any]:
        """GET the ticket's status, as the page does while its socket is down."""
        _, body = await self.client.call(
            "GET /api/v1/tickets/{id} (poll)",
            "GET",
            self.client.url(f"/api/v1/tickets/{self.ticket}"),
            headers={"Cookie": self.cookie},
        )
        msg: dict[str, Any] = json.loads(body)
        return msg

    async def wait_for(self, wanted: set[str], within: float) -> str | None:
        """The first status in `wanted` (or terminal) seen within `within` seconds, else None."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(within):
                while self.status not in wanted | TERMINAL:
                    self.changed.clear()
                    await self.changed.wait()
                return self.status
        return None
