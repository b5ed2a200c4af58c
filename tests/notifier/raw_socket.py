"""A WebSocket client over raw TCP that sends whatever frame it is told to, since a
WebSocket library refuses to send most of what the notifier must refuse."""

from __future__ import annotations

import asyncio
import base64
import os
import struct
from urllib.parse import urlsplit

from minilogin_testkit import Browser
from yarl import URL

CONT, TEXT, BINARY, CLOSE, PING, PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
WAIT = 5.0


class RawSocket:
    """A WebSocket client that sends whatever frame it is told to."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def connect(cls, browser: Browser, base: str, *, first: bytes = b"") -> RawSocket:
        """Open a ticket's socket; `first` is written together with the upgrade request."""
        ticket, _ = await browser.ticket()
        url = URL(f"{base}/ws/tickets/{ticket['ticket']}")
        cookies = browser.session.cookie_jar.filter_cookies(url)
        parts = urlsplit(str(url))
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        key = base64.b64encode(os.urandom(16)).decode()
        request = (
            f"GET {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            "Cookie: " + "; ".join(f"{k}={m.value}" for k, m in cookies.items()) + "\r\n\r\n"
        )
        writer.write(request.encode() + first)
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), WAIT)
        assert head.startswith(b"HTTP/1.1 101 "), head
        sock = cls(reader, writer)
        opcode, status = await sock.frame()
        assert opcode == TEXT
        assert b'"pending"' in status
        return sock

    def send(self, opcode: int, payload: bytes = b"", *, fin: bool = True) -> None:
        mask = os.urandom(4)
        n = len(payload)
        b0 = (0x80 if fin else 0) | opcode
        if n < 126:
            head = struct.pack("!BB", b0, 0x80 | n)
        elif n < 1 << 16:
            head = struct.pack("!BBH", b0, 0x80 | 126, n)
        else:
            head = struct.pack("!BBQ", b0, 0x80 | 127, n)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.writer.write(head + mask + masked)

    def text(self, text: str) -> None:
        self.send(TEXT, text.encode())

    async def frame(self) -> tuple[int, bytes]:
        """The server's next frame (never masked, never fragmented here)."""
        head = await asyncio.wait_for(self.reader.readexactly(2), WAIT)
        n = head[1] & 0x7F
        if n == 126:
            (n,) = struct.unpack("!H", await self.reader.readexactly(2))
        elif n == 127:
            (n,) = struct.unpack("!Q", await self.reader.readexactly(8))
        assert head[0] & 0x80, "a fragment"
        assert not head[1] & 0x80, "a masked frame"
        return head[0] & 0x0F, await asyncio.wait_for(self.reader.readexactly(n), WAIT)

    async def closed_with(self) -> int:
        """The code of the server's close frame, once the server has also ended the TCP
        connection: after a protocol error it does not wait for this side's close."""
        opcode, payload = await self.frame()
        assert opcode == CLOSE, (opcode, payload)
        (code,) = struct.unpack("!H", payload[:2])
        assert await asyncio.wait_for(self.reader.read(), WAIT) == b""
        return int(code)

    async def still_open(self) -> None:
        """The socket still answers "ping" (and so took everything sent before)."""
        self.text("ping")
        assert await self.frame() == (TEXT, b"pong")

    def end(self) -> None:
        self.writer.close()
