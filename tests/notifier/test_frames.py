"""What a client's frames get from the notifier's socket, byte for byte (RFC 6455), on both
socket paths: text that is not UTF-8, fragments, control frames, close frames, sizes."""

from __future__ import annotations

import asyncio
import struct
from collections.abc import AsyncIterator

import pytest
from minilogin_testkit import Stack
from raw_socket import CLOSE, CONT, PING, PONG, TEXT, WAIT, RawSocket


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
