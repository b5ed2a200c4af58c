"""The waiting browser's WebSocket after the handshake: a small protocol of its own.

aiohttp checks the request (ticket, binding cookie, error JSON); then the connection leaves
it. Held by aiohttp, an idle socket kept its request, headers, parser, handler task and the
middleware frames alive: about 20 KiB each. This object is all that an idle browser costs
here besides the kernel's socket; the server only ever sends small text frames and reads
"ping", pings, pongs and the close.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import struct
from collections.abc import Callable
from typing import Any

from aiohttp import web

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
CONTINUATION, TEXT, BINARY, CLOSE, PING, PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
MAX_FRAME = 1024  # a browser sends "ping" and little else
CLOSE_TIMEOUT = 10.0  # how long a close we started waits for the browser's close frame
# Close codes (RFC 6455 section 7.4.1).
NORMAL, GOING_AWAY, PROTOCOL_ERROR, TOO_BIG = 1000, 1001, 1002, 1009


def accept_key(request: web.Request) -> str:
    """Sec-WebSocket-Accept for a valid upgrade request; 400 otherwise (as aiohttp did)."""
    headers = request.headers
    if headers.get("Upgrade", "").strip().lower() != "websocket":
        raise web.HTTPBadRequest(text="Can only upgrade to websocket")
    if "upgrade" not in {t.strip().lower() for t in headers.get("Connection", "").split(",")}:
        raise web.HTTPBadRequest(text="No Connection: upgrade header")
    if headers.get("Sec-WebSocket-Version", "") != "13":
        raise web.HTTPBadRequest(text="Unsupported WebSocket version")
    key = headers.get("Sec-WebSocket-Key", "")
    try:
        valid = len(base64.b64decode(key, validate=True)) == 16
    except ValueError:
        valid = False
    if not valid:
        raise web.HTTPBadRequest(text="Bad Sec-WebSocket-Key")
    return base64.b64encode(hashlib.sha1(key.encode() + _GUID).digest()).decode()  # noqa: S324  # RFC 6455 fixes SHA-1


def _frame(opcode: int, payload: bytes) -> bytes:
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", 0x80 | opcode, n)
    elif n < 1 << 16:
        head = struct.pack("!BBH", 0x80 | opcode, 126, n)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 127, n)
    return head + payload


def _close_payload(code: int, reason: bytes) -> bytes:
    return struct.pack("!H", code) + reason[:123]


def _unmask(mask: bytes, data: bytes) -> bytes:
    n = len(data)
    if not n:
        return data
    key = int.from_bytes((mask * (n // 4 + 1))[:n], "big")
    return (int.from_bytes(data, "big") ^ key).to_bytes(n, "big")


class TicketSocket(asyncio.Protocol):
    """One browser waiting on `ticket_id`; `last_version` is the newest status it was sent."""

    __slots__ = (
        "_buf",
        "_closing",
        "_on_gone",
        "_silent",
        "last_version",
        "ticket_id",
        "transport",
    )

    def __init__(self, ticket_id: str, on_gone: Callable[[TicketSocket], None]) -> None:
        self.ticket_id = ticket_id
        self.last_version = 0
        self.transport: asyncio.Transport | None = None
        self._on_gone: Callable[[TicketSocket], None] | None = on_gone
        self._buf = b""  # an incomplete frame; empty between frames, as almost always
        self._silent = False  # pinged by the heartbeat and nothing heard since
        self._closing = False

    @classmethod
    def take_over(
        cls, request: web.Request, ticket_id: str, on_gone: Callable[[TicketSocket], None]
    ) -> TicketSocket:
        """Answer the upgrade and move the connection from aiohttp to a new socket.

        aiohttp is told the connection is gone (for it, it is) after its transport is taken
        away, so it lets go of its request and handler without closing the connection; the
        response the handler then returns is dropped as a client disconnect."""
        accept = accept_key(request)
        protocol = request.protocol
        transport = protocol.transport
        if transport is None or transport.is_closing():
            raise ConnectionResetError("the browser left during the handshake")
        sock = cls(ticket_id, on_gone)
        transport.set_protocol(sock)
        protocol.transport = None
        protocol.connection_lost(None)
        sock.transport = transport
        transport.write(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Accept: " + accept.encode() + b"\r\n\r\n"
        )
        return sock

    @property
    def closed(self) -> bool:
        return self._closing or self.transport is None or self.transport.is_closing()

    def push(self, message: dict[str, Any]) -> bool:
        """Send unless this or a newer version was already sent; True if sent."""
        if message["version"] <= self.last_version or self.closed:
            return False
        self.last_version = message["version"]
        self.send_text(json.dumps(message))
        return True

    def send_text(self, text: str) -> None:
        self._send(TEXT, text.encode())

    def close(self, code: int = NORMAL, reason: bytes = b"") -> None:
        """Start the closing handshake; the connection ends when the browser answers."""
        if self.closed:
            return
        self._send(CLOSE, _close_payload(code, reason))
        self._closing = True
        transport = self.transport
        assert transport is not None
        # Rare (a socket's last moment), so a timer each is fine here.
        asyncio.get_running_loop().call_later(CLOSE_TIMEOUT, transport.abort)

    def shut(self, code: int, reason: bytes) -> None:
        """Close now without waiting for the browser's answer (the process is stopping)."""
        if not self.closed:
            self._send(CLOSE, _close_payload(code, reason))
        if self.transport is not None:
            self.transport.close()

    def heartbeat(self) -> None:
        """One beat of the shared heartbeat: drop a peer silent since the last, ping the rest."""
        if self.closed:
            return
        if self._silent:
            assert self.transport is not None
            self.transport.abort()  # dead peer: nothing to flush to it
            return
        self._silent = True
        self._send(PING, b"")

    def _send(self, opcode: int, payload: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(_frame(opcode, payload))

    # asyncio.Protocol

    def data_received(self, data: bytes) -> None:
        self._silent = False
        buf = self._buf + data if self._buf else data
        transport = self.transport
        while buf and transport is not None and not transport.is_closing():
            used = self._frame_received(buf)
            if used == 0:
                break
            buf = buf[used:]
        self._buf = buf if transport is not None and not transport.is_closing() else b""

    def eof_received(self) -> bool | None:
        return None  # close our side too

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        self._buf = b""
        on_gone, self._on_gone = self._on_gone, None
        if on_gone is not None:
            on_gone(self)

    def _frame_received(self, buf: bytes) -> int:
        """Handle the frame at the start of `buf`; bytes used, 0 if it is incomplete."""
        if len(buf) < 2:
            return 0
        b0, b1 = buf[0], buf[1]
        fin, opcode, length = b0 & 0x80, b0 & 0x0F, b1 & 0x7F
        pos = 2
        if length == 126:
            if len(buf) < 4:
                return 0
            (length,) = struct.unpack_from("!H", buf, 2)
            pos = 4
        elif length == 127:
            if len(buf) < 10:
                return 0
            (length,) = struct.unpack_from("!Q", buf, 2)
            pos = 10
        if b0 & 0x70 or not b1 & 0x80 or (opcode >= CLOSE and (not fin or length > 125)):
            return self._fail(PROTOCOL_ERROR)  # reserved bits, unmasked, or bad control frame
        if length > MAX_FRAME:
            return self._fail(TOO_BIG)
        end = pos + 4 + length
        if len(buf) < end:
            return 0
        payload = _unmask(buf[pos : pos + 4], buf[pos + 4 : end])
        if opcode == TEXT and fin and payload == b"ping":
            self.send_text("pong")
        elif opcode == PING:
            self._send(PONG, payload)
        elif opcode == CLOSE:
            self._close_received(payload)
        elif opcode not in (CONTINUATION, TEXT, BINARY, PONG):
            return self._fail(PROTOCOL_ERROR)
        # Other text, binary and fragments carry nothing the server acts on.
        return end

    def _close_received(self, payload: bytes) -> None:
        if not self._closing:
            code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else NORMAL
            self._send(CLOSE, _close_payload(code, b""))
        assert self.transport is not None
        self.transport.close()

    def _fail(self, code: int) -> int:
        self.shut(code, b"")
        return 0
