"""What a client's frames get from the notifier's socket, byte for byte (RFC 6455), on both
socket paths: text that is not UTF-8, fragments, control frames, close frames, sizes.
A raw TCP client writes the frames, since a WebSocket library refuses to send most of them."""

from __future__ import annotations

import asyncio
import base64
import os
import struct
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import pytest
from minilogin_testkit import Browser, Stack
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


@pytest.fixture
async def raw(stack: Stack) -> AsyncIterator[RawSocket]:
    sock = await RawSocket.connect(stack.browser(), stack.notifiers[0])
    yield sock
    sock.end()


async def test_text_that_is_not_utf8_closes_as_invalid_data(raw: RawSocket) -> None:
    raw.send(TEXT, b"pi\xffng")
    assert await raw.closed_with() == 1007


async def test_a_continuation_of_no_message_closes_as_protocol_error(raw: RawSocket) -> None:
    raw.send(CONT, b"ping")
    assert await raw.closed_with() == 1002


async def test_a_fragmented_ping_is_answered_once_whole(raw: RawSocket) -> None:
    raw.send(TEXT, b"pi", fin=False)
    raw.send(CONT, b"n", fin=False)
    raw.send(CONT, b"g")
    assert await raw.frame() == (TEXT, b"pong")


async def test_a_control_frame_between_fragments_is_answered_at_once(raw: RawSocket) -> None:
    raw.send(TEXT, b"pi", fin=False)
    raw.send(PING, b"between")
    assert await raw.frame() == (PONG, b"between")
    raw.send(CONT, b"ng")
    assert await raw.frame() == (TEXT, b"pong")


async def test_a_character_split_across_fragments_is_valid_text(raw: RawSocket) -> None:
    word = "né".encode()  # the last character is two bytes: the fragments split it
    raw.send(TEXT, word[:2], fin=False)
    raw.send(CONT, word[2:])
    await raw.still_open()


async def test_text_that_is_not_utf8_across_fragments_closes_as_invalid_data(
    raw: RawSocket,
) -> None:
    raw.send(TEXT, b"\xc3", fin=False)
    raw.send(CONT, b"(")  # not a continuation byte
    assert await raw.closed_with() == 1007


async def test_a_new_message_inside_a_fragmented_one_closes_as_protocol_error(
    raw: RawSocket,
) -> None:
    raw.send(TEXT, b"pi", fin=False)
    raw.send(TEXT, b"ng")
    assert await raw.closed_with() == 1002


async def test_a_fragmented_control_frame_closes_as_protocol_error(raw: RawSocket) -> None:
    raw.send(PING, b"half", fin=False)
    assert await raw.closed_with() == 1002


async def test_a_control_frame_over_125_bytes_closes_as_protocol_error(raw: RawSocket) -> None:
    raw.send(PING, b"x" * 126)
    assert await raw.closed_with() == 1002


async def test_a_message_of_1024_bytes_is_taken_and_one_more_is_too_big(raw: RawSocket) -> None:
    raw.send(TEXT, b"x" * 1024)
    await raw.still_open()
    raw.send(TEXT, b"x" * 1025)
    assert await raw.closed_with() == 1009


async def test_fragments_adding_up_to_too_much_close_as_too_big(raw: RawSocket) -> None:
    for i in range(4):
        raw.send(CONT if i else TEXT, b"x" * 300, fin=False)
    assert await raw.closed_with() == 1009


async def test_reserved_bits_and_opcodes_close_as_protocol_error(stack: Stack) -> None:
    browser = stack.browser()
    for opcode in (0x3, 0xB, 0x40 | TEXT):  # reserved data, reserved control, RSV1 set
        sock = await RawSocket.connect(browser, stack.notifiers[0])
        sock.send(opcode, b"ping")
        assert await sock.closed_with() == 1002, hex(opcode)
        sock.end()


async def test_the_browsers_close_code_is_echoed(raw: RawSocket) -> None:
    raw.send(CLOSE, struct.pack("!H", 4000) + b"bye")
    assert await raw.frame() == (CLOSE, struct.pack("!H", 4000))
    assert await asyncio.wait_for(raw.reader.read(), WAIT) == b""


async def test_an_empty_close_is_answered_as_normal(raw: RawSocket) -> None:
    raw.send(CLOSE)
    assert await raw.frame() == (CLOSE, struct.pack("!H", 1000))
    assert await asyncio.wait_for(raw.reader.read(), WAIT) == b""


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        (b"\x03", 1002),  # a code must be two bytes
        (struct.pack("!H", 1005), 1002),  # "no status": never sent on the wire
        (struct.pack("!H", 999), 1002),  # below the range of codes
        (struct.pack("!H", 1000) + b"\xff", 1007),  # the reason is not UTF-8
    ],
)
async def test_an_invalid_close_frame_is_refused(raw: RawSocket, payload: bytes, code: int) -> None:
    raw.send(CLOSE, payload)
    assert await raw.closed_with() == code


async def test_a_frame_sent_with_the_upgrade_request_is_read(stack: Stack) -> None:
    """A client may write its first frame before it has read the 101."""
    mask = b"\x01\x02\x03\x04"
    ping = bytes([0x80 | TEXT, 0x80 | 4]) + mask + bytes(b ^ mask[i] for i, b in enumerate(b"ping"))
    sock = await RawSocket.connect(stack.browser(), stack.notifiers[0], first=ping)
    assert await sock.frame() == (TEXT, b"pong")
    sock.end()
