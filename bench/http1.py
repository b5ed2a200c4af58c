"""A lean HTTP/1.1 and WebSocket client for the load generator.

The generator shares two cores with everything it measures, and aiohttp's client costs
about 0.3 ms of CPU per request here; this one, asyncio streams with keep-alive and no
cookie jar, redirects or compression, costs a fraction of that. It speaks only what our
services answer: responses with Content-Length or chunked bodies, and unfragmented or
fragmented WebSocket text frames (RFC 6455), answering pings."""

from __future__ import annotations

import asyncio
import base64
import os
import struct
from collections import defaultdict
from dataclasses import dataclass, field
from urllib.parse import urlsplit

HANDSHAKE_TIMEOUT = 10.0


class HttpError(Exception):
    pass


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes
    cookies: dict[str, str] = field(default_factory=dict)


def _address(url: str) -> tuple[str, int, str]:
    parts = urlsplit(url)
    if parts.hostname is None:
        raise HttpError(f"no host in {url!r}")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return parts.hostname, parts.port or 80, path


async def _read_head(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], dict[str, str]]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers: dict[str, str] = {}
    cookies: dict[str, str] = {}
    for line in lines[1:]:
        if not line:
            continue
        name, _, value = line.partition(":")
        name, value = name.strip().lower(), value.strip()
        if name == "set-cookie":
            key, _, rest = value.partition("=")
            cookies[key] = rest.split(";", 1)[0]
        headers[name] = value
    return status, headers, cookies


async def _read_body(reader: asyncio.StreamReader, headers: dict[str, str]) -> bytes:
    if "content-length" in headers:
        return await reader.readexactly(int(headers["content-length"]))
    if headers.get("transfer-encoding", "").lower() == "chunked":
        chunks: list[bytes] = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";", 1)[0], 16)
            if size == 0:
                await reader.readuntil(b"\r\n")  # no trailers from our services
                return b"".join(chunks)
            chunks.append(await reader.readexactly(size))
            await reader.readexactly(2)
    raise HttpError("a response without Content-Length or chunked encoding")


class HttpClient:
    """Keep-alive connections per host and port, as many as requests run at once."""

    def __init__(self) -> None:
        self._idle: defaultdict[
            tuple[str, int], list[tuple[asyncio.StreamReader, asyncio.StreamWriter]]
        ] = defaultdict(list)

    async def request(
        self, method: str, url: str, *, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> Response:
        host, port, path = _address(url)
        lines = [f"{method} {path} HTTP/1.1", f"Host: {host}:{port}"]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        if body or method in ("POST", "PUT", "PATCH"):
            lines.append(f"Content-Length: {len(body)}")
        raw = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
        pool = self._idle[(host, port)]
        reused = bool(pool)
        reader, writer = pool.pop() if reused else await asyncio.open_connection(host, port)
        try:
            writer.write(raw)
            status, head, cookies = await _read_head(reader)
            data = await _read_body(reader, head)
        except (OSError, asyncio.IncompleteReadError) as exc:
            writer.close()
            if reused:  # the server closed an idle connection: one fresh try
                return await self.request(method, url, body=body, headers=headers)
            raise HttpError(f"{method} {url}: {exc!r}") from exc
        except BaseException:
            writer.close()
            raise
        if head.get("connection", "").lower() == "close":
            writer.close()
        else:
            pool.append((reader, writer))
        return Response(status, head, data, cookies)

    async def websocket(self, url: str, *, headers: dict[str, str] | None = None) -> WebSocket:
        host, port, path = _address(url)
        reader, writer = await asyncio.open_connection(host, port)
        key = base64.b64encode(os.urandom(16)).decode()
        lines = [
            f"GET {path} HTTP/1.1",
            f"Host: {host}:{port}",
            "Upgrade: websocket",
            "Connection: Upgrade",
            f"Sec-WebSocket-Key: {key}",
            "Sec-WebSocket-Version: 13",
            *(f"{k}: {v}" for k, v in (headers or {}).items()),
        ]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        try:
            async with asyncio.timeout(HANDSHAKE_TIMEOUT):
                status, head, _ = await _read_head(reader)
                if status != 101:
                    body = await _read_body(reader, head)
                    raise HttpError(f"WebSocket refused: HTTP {status} {body[:120]!r}")
        except BaseException:
            writer.close()
            raise
        return WebSocket(reader, writer)

    async def close(self) -> None:
        for pool in self._idle.values():
            for _, writer in pool:
                writer.close()
        self._idle.clear()


class WebSocket:
    TEXT, CLOSE, PING, PONG = 1, 8, 9, 10

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer
        self.closed = False

    async def receive(self) -> str | None:
        """The next text message, or None once the connection is closed."""
        parts: list[bytes] = []
        while not self.closed:
            try:
                opcode, fin, payload = await self._frame()
            except (OSError, asyncio.IncompleteReadError):
                self.closed = True
                break
            if opcode == self.PING:
                self._send(self.PONG, payload)
            elif opcode == self.CLOSE:
                await self.close()
            elif opcode in (0, self.TEXT):
                parts.append(payload)
                if fin:
                    return b"".join(parts).decode()
        return None

    async def _frame(self) -> tuple[int, bool, bytes]:
        b0, b1 = await self._reader.readexactly(2)
        size = b1 & 0x7F
        if size == 126:
            (size,) = struct.unpack("!H", await self._reader.readexactly(2))
        elif size == 127:
            (size,) = struct.unpack("!Q", await self._reader.readexactly(8))
        if b1 & 0x80:  # servers do not mask; read past a mask all the same
            await self._reader.readexactly(4)
        return b0 & 0x0F, bool(b0 & 0x80), await self._reader.readexactly(size)

    def _send(self, opcode: int, payload: bytes) -> None:
        # A client masks every frame (RFC 6455 section 5.3); our payloads are tiny.
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self._writer.write(bytes([0x80 | opcode, 0x80 | len(payload)]) + mask + masked)

    async def close(self) -> None:
        if not self.closed:
            self.closed = True
            try:
                self._send(self.CLOSE, struct.pack("!H", 1000))
                await self._writer.drain()
            except OSError:
                pass
        self._writer.close()
