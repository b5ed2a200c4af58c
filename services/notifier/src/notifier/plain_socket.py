"""The waiting browser's WebSocket held by aiohttp's own WebSocketResponse.

`ML_NOTIFIER_SOCKETS=aiohttp`: no aiohttp internals, about 20 KiB per idle browser instead
of the lean socket's 2 KiB (`notifier.socket`). The browser cannot tell the two apart: the
same messages, "ping" answered with "pong", the shared heartbeat, the same close codes and
the same closing handshake.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Coroutine
from typing import Any

from aiohttp import WSMessage, WSMsgType, web

from notifier.hub import PushNewer
from notifier.socket import CLOSE_TIMEOUT, GOING_AWAY, MAX_MESSAGE, NORMAL


class PlainSocket(PushNewer):
    """One browser waiting on `ticket_id`; `last_version` is the newest status it was sent.

    The request handler runs `serve()`, the only reader, until the socket is closed. Other
    tasks push and close through sync calls, like the lean socket's; what they send goes out
    in order (a frame is written before the first await of a send)."""

    def __init__(
        self,
        ws: web.WebSocketResponse,
        transport: asyncio.Transport,
        ticket_id: str,
        on_gone: Callable[[PlainSocket], None],
    ) -> None:
        self.ticket_id = ticket_id
        self.last_version = 0
        self.response = ws
        self._transport = transport
        self._on_gone = on_gone
        self._silent = False  # pinged by the heartbeat and nothing heard since
        # A close asked for by another task (code, reason); `serve` sends it and waits.
        self._close_asked: asyncio.Future[tuple[int, bytes]] = (
            asyncio.get_running_loop().create_future()
        )
        self._sending: set[asyncio.Task[None]] = set()

    @classmethod
    async def open(
        cls, request: web.Request, ticket_id: str, on_gone: Callable[[PlainSocket], None]
    ) -> PlainSocket:
        """Answer the upgrade; the caller then runs `serve()`."""
        ws = web.WebSocketResponse(
            autoping=False,  # pings and pongs are counted by the heartbeat, like the lean socket
            autoclose=False,  # so the browser's close code is echoed, like the lean socket
            compress=False,  # nor does the lean socket offer permessage-deflate
            max_msg_size=MAX_MESSAGE + 1,  # aiohttp refuses a message of max_msg_size or more
            timeout=CLOSE_TIMEOUT,
        )
        transport = request.transport
        await ws.prepare(request)
        if transport is None:
            raise ConnectionResetError("the browser left during the handshake")
        return cls(ws, transport, ticket_id, on_gone)

    @property
    def closed(self) -> bool:
        return self._close_asked.done() or self.response.closed or self._transport.is_closing()

    def send_text(self, text: str) -> None:
        self._spawn(self.response.send_str(text))

    def close(self, code: int = NORMAL, reason: bytes = b"") -> None:
        """Start the closing handshake; the connection ends when the browser answers."""
        if not self.closed:
            self._close_asked.set_result((code, reason))

    def going_away(self) -> None:
        self.close(GOING_AWAY, b"server shutting down")

    def heartbeat(self) -> None:
        """One beat of the shared heartbeat: drop a peer silent since the last, ping the rest."""
        if self.closed:
            return
        if self._silent:
            self._transport.abort()  # dead peer: nothing to flush to it
            return
        self._silent = True
        self._spawn(self.response.ping())

    def _spawn(self, send: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(_quietly(send))
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def serve(self) -> None:
        """Read the browser's frames until the socket is closed, from either side."""
        ws = self.response
        receiving: asyncio.Future[WSMessage] | None = None
        try:
            while not ws.closed:
                receiving = asyncio.ensure_future(ws.receive())
                await asyncio.wait((receiving, self._close_asked), return_when="FIRST_COMPLETED")
                if receiving.done():
                    await self._received(receiving.result())
                else:
                    receiving.cancel()  # a queued frame stays queued
                    with contextlib.suppress(asyncio.CancelledError):
                        await receiving
                if self._close_asked.done() and not ws.closed:
                    code, reason = self._close_asked.result()
                    # From this task, close waits for the browser's close frame (up to
                    # CLOSE_TIMEOUT), as the lean socket does; from another it would not.
                    await ws.close(code=code, message=reason)
        finally:
            if receiving is not None:
                receiving.cancel()
            on_gone, self._on_gone = self._on_gone, _forget
            on_gone(self)

    async def _received(self, msg: WSMessage) -> None:
        ws = self.response
        self._silent = False
        if msg.type is WSMsgType.TEXT:
            if msg.data == "ping" and not self.closed:
                await _quietly(ws.send_str("pong"))
        elif msg.type is WSMsgType.PING:
            if not self.closed:
                await _quietly(ws.pong(msg.data))
        elif msg.type is WSMsgType.CLOSE:
            # Echo the browser's code (0: its close frame had none); the transport closes.
            await ws.close(code=msg.data or NORMAL)
        # Binary and pongs carry nothing; ERROR and CLOSED come after aiohttp closed it.


def _forget(_: PlainSocket) -> None:
    pass


async def _quietly(send: Coroutine[Any, Any, None]) -> None:
    """A send to a browser that is leaving changes nothing."""
    with contextlib.suppress(ConnectionError):
        await send
