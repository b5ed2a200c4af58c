"""An import body is cut into numbered lines, and a line over the limit is refused wherever the
stream's reads (64 KiB each) happen to cut it."""

from __future__ import annotations

import asyncio
from unittest import mock

import pytest
from aiohttp import StreamReader
from aiohttp.base_protocol import BaseProtocol

from account.user_import import MAX_LINE_BYTES, lines

LONG = b"x" * (MAX_LINE_BYTES + 10)


async def _read(body: bytes) -> list[tuple[int, bytes | None]]:
    protocol = mock.Mock(spec=BaseProtocol, _reading_paused=False)
    stream = StreamReader(protocol, 2**16, loop=asyncio.get_running_loop())
    stream.feed_data(body)
    stream.feed_eof()
    return [line async for line in lines(stream)]


# The long line starts at the body's start, just before a read's end, or well inside one.
@pytest.mark.parametrize("lead", [0, 20, 60_000, 65_000])
async def test_a_long_line_is_refused_wherever_the_reads_cut_it(lead: int) -> None:
    first = b'{"pad": "' + b"p" * lead + b'"}'
    body = first + b"\n\n" + LONG + b'\n{"b": 2}\r\n' + LONG + b'\n{"c": 3}'
    assert await _read(body) == [
        (1, first),
        (2, b""),
        (3, None),
        (4, b'{"b": 2}\r'),
        (5, None),
        (6, b'{"c": 3}'),
    ]


async def test_a_last_line_without_a_newline_and_an_empty_body() -> None:
    assert await _read(b"one\ntwo") == [(1, b"one"), (2, b"two")]
    assert await _read(LONG) == [(1, None)]
    assert await _read(b"") == []
