"""The waiting browser's WebSocket after the handshake: a small protocol of its own.

aiohttp checks the request (ticket, binding cookie, error JSON); then the connection leaves
it (`notifier.aiohttp_takeover`, ML_NOTIFIER_SOCKETS=lean). Held by aiohttp, an idle socket
kept its request, headers, parser, handler task and the middleware frames alive: about
20 KiB each. This object is all that an idle browser costs here besides the kernel's socket;
the server only ever sends small text frames and reads "ping", pings, pongs and the close.
The reader follows RFC 6455 for everything a client may send (fragments, control frames,
UTF-8 text, close codes), so it fails a broken client the way aiohttp's own reader does.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import struct
from collections.abc import Callable
from typing import cast

from aiohttp import web

from notifier import aiohttp_takeover
from notifier.hub import PushNewer

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
CONTINUATION, TEXT, BINARY, CLOSE, PING, PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
_OPCODES = frozenset({CONTINUATION, TEXT, BINARY, CLOSE, PING, PONG})
MAX_MESSAGE = 1024  # bytes in a message, fragments joined: a browser sends "ping" and little else
CLOSE_TIMEOUT = 10.0  # how long a close we started waits for the browser's close frame
# Close codes (RFC 6455 section 7.4.1).
NORMAL, GOING_AWAY, PROTOCOL_ERROR, INVALID_TEXT, TOO_BIG = 1000, 1001, 1002, 1007, 1009
# Codes a peer may send in its close frame: RFC 6455's and IANA's, and the 3000-4999 range
# for libraries and applications (1004-1006 and 1015 must never be sent).
_VALID_CLOSE = frozenset({1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014})


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


class TicketSocket(aiohttp_takeover.Detached, PushNewer):
    """One browser waiting on `ticket_id`; `last_version` is the newest status it was sent."""

    __slots__ = (
        "_buf",
        "_closing",
        "_fence",
        "_listening",
        "_message",
        "_on_gone",
        "_silent",
        "ticket_id",
        "transport",
    )

    def __init__(self, ticket_id: str, on_gone: Callable[[TicketSocket], None]) -> None:
        self.ticket_id = ticket_id
        self.last_version = 0
        self.transport: asyncio.Transport | None = None
        self._on_gone: Callable[[TicketSocket], None] | None = on_gone
        self._fence: aiohttp_takeover.Fence | None = None
        self._buf = b""  # an incomplete frame; empty between frames, as almost always
        self._listening = False  # frames are only read once the first status is sent
        # A fragmented message so far, (opcode, payload); None between messages, as always
        # from a browser, which sends "ping" in one frame.
        self._message: tuple[int, bytes] | None = None
        self._silent = False  # pinged by the heartbeat and nothing heard since
        self._closing = False

    @classmethod
    def take_over(
        cls, request: web.Request, ticket_id: str, on_gone: Callable[[TicketSocket], None]
    ) -> TicketSocket:
        """Answer the upgrade and move the connection from aiohttp to a new socket."""
        accept = accept_key(request)
        sock = cls(ticket_id, on_gone)
        sock._fence = aiohttp_takeover.take_over(
            request,
            sock,
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Accept: " + accept.encode() + b"\r\n\r\n",
        )
        return sock

    def listen(self) -> None:
        """Answer the browser's frames from now on, first those that came since the
        handshake: after the first status, as with aiohttp's own WebSocketResponse."""
        self._listening = True
        self.data_received(b"")

    @property
    def closed(self) -> bool:
        return self._closing or self.transport is None or self.transport.is_closing()

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

    def heartbeat(self) -> None:
        """One beat of the shared heartbeat: drop a peer silent since the last, ping the rest."""
        if self.closed:
            return
        if self._silent:
            self.abort()  # dead peer: nothing to flush to it
            return
        self._silent = True
        self._send(PING, b"")

    # aiohttp_takeover.Detached: the server's graceful shutdown

    def going_away(self) -> None:
        self.close(GOING_AWAY, b"server shutting down")

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()

    def _send(self, opcode: int, payload: bytes) -> None:
        transport = self.transport
        # Nothing follows a close frame (RFC 6455 section 5.5.1).
        if transport is not None and not self._closing and not transport.is_closing():
            transport.write(_frame(opcode, payload))

    def _fail(self, code: int) -> int:
        """Fail the connection (RFC 6455 section 7.1.7): say why, then close at once."""
        self._send(CLOSE, _close_payload(code, b""))
        self._closing = True
        if self.transport is not None:
            self.transport.close()
        return 0

    # asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # A stream transport, though not an asyncio.Transport instance under uvloop.
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self._silent = False
        buf = self._buf + data if self._buf else data
        if not self._listening:
            self._buf = buf
            return
        while buf and not self._done:
            used = self._frame_received(buf)
            if used == 0:
                break
            buf = buf[used:]
        self._buf = b"" if self._done else buf

    @property
    def _done(self) -> bool:
        """Nothing more is read: the connection is closing, from our side or the peer's."""
        return self.transport is None or self.transport.is_closing()

    def eof_received(self) -> bool | None:
        return None  # close our side too

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        self._buf = b""
        self._message = None
        fence, self._fence = self._fence, None
        if fence is not None:
            fence.release(self)
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
        # Reserved bits (no extension is negotiated), an unmasked client frame, an unknown
        # opcode; a control frame fragmented or over 125 bytes; a continuation of no message,
        # or a new message in the middle of a fragmented one (section 5).
        partial = self._message
        if b0 & 0x70 or not b1 & 0x80 or opcode not in _OPCODES:
            return self._fail(PROTOCOL_ERROR)
        if opcode >= CLOSE:
            if not fin or length > 125:
                return self._fail(PROTOCOL_ERROR)
        elif (opcode == CONTINUATION) is (partial is None):
            return self._fail(PROTOCOL_ERROR)
        elif length + (len(partial[1]) if partial is not None else 0) > MAX_MESSAGE:
            return self._fail(TOO_BIG)
        end = pos + 4 + length
        if len(buf) < end:
            return 0
        payload = _unmask(buf[pos : pos + 4], buf[pos + 4 : end])
        if opcode >= CLOSE:
            self._control_received(opcode, payload)
        elif not fin:
            self._message = (partial[0], partial[1] + payload) if partial else (opcode, payload)
        else:
            if partial is not None:
                opcode, payload = partial[0], partial[1] + payload
                self._message = None
            self._message_received(opcode, payload)
        return end

    def _message_received(self, opcode: int, payload: bytes) -> None:
        if opcode != TEXT:
            return  # binary carries nothing the server acts on
        try:
            text = payload.decode()
        except UnicodeDecodeError:
            self._fail(INVALID_TEXT)
            return
        if text == "ping":
            self.send_text("pong")
        # Other text carries nothing the server acts on.

    def _control_received(self, opcode: int, payload: bytes) -> None:
        if opcode == PING:
            self._send(PONG, payload)
        elif opcode == CLOSE:
            self._close_received(payload)
        # A pong only shows the browser is there, which any frame does.

    def _close_received(self, payload: bytes) -> None:
        code = NORMAL
        if payload:
            if len(payload) < 2:
                self._fail(PROTOCOL_ERROR)
                return
            code = struct.unpack_from("!H", payload)[0]
            if code not in _VALID_CLOSE and not 3000 <= code <= 4999:
                self._fail(PROTOCOL_ERROR)
                return
            try:
                payload[2:].decode()
            except UnicodeDecodeError:
                self._fail(INVALID_TEXT)
                return
        if not self._closing:
            self._send(CLOSE, _close_payload(code, b""))  # echo the browser's code
            self._closing = True
        assert self.transport is not None
        self.transport.close()
