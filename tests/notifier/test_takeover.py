"""notifier.aiohttp_takeover: connections handed over from aiohttp's request handler stay
known to its server (its graceful shutdown closes them), the handler is not cancelled under
handler_cancellation, and an aiohttp or a server it was not checked against is refused."""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import os
import struct
from collections.abc import Callable

import aiohttp
import pytest
import uvloop
from aiohttp import web
from aiohttp.test_utils import TestServer, make_mocked_request
from raw_socket import CLOSE, TEXT, RawSocket

import notifier.app
from devstack.settings import StackSettings
from notifier import aiohttp_takeover
from notifier.socket import TicketSocket

WAIT = 5.0
UPGRADE = b"GET / HTTP/1.1\r\nHost: test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
SWITCHED = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: test\r\nConnection: Upgrade\r\n\r\n"


class Echo(aiohttp_takeover.Detached):
    """A protocol that takes a connection over and echoes what it reads; when its server
    stops it says "bye" and closes, unless it is `deaf`."""

    def __init__(self, *, deaf: bool = False) -> None:
        self.transport: asyncio.Transport | None = None
        self.fence: aiohttp_takeover.Fence | None = None
        self.deaf = deaf

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        assert self.transport is not None
        self.transport.write(data)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.fence is not None:
            self.fence.release(self)

    def going_away(self) -> None:
        if not self.deaf and self.transport is not None:
            self.transport.write(b"bye")
            self.transport.close()

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()


def echo_app(protocol: Callable[[], Echo], then: asyncio.Event | None = None) -> web.Application:
    """One route that takes its connection over; after `then` is set, the handler, still
    running, writes "after" on the connection it gave away."""

    async def handler(request: web.Request) -> web.Response:
        proto = protocol()
        proto.fence = aiohttp_takeover.take_over(request, proto, SWITCHED)
        if then is not None:
            await then.wait()
            assert proto.transport is not None
            proto.transport.write(b"after")
        return web.Response()

    app = web.Application()
    app.router.add_get("/", handler)
    return app


async def upgrade(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(UPGRADE)
    assert await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), WAIT) == SWITCHED
    return reader, writer


@pytest.mark.parametrize("version", ["3.13.3", "3.15.0", "4.0.0a1"])
def test_the_lean_sockets_refuse_to_start_on_another_aiohttp(
    monkeypatch: pytest.MonkeyPatch, version: str
) -> None:
    monkeypatch.setattr(aiohttp, "__version__", version)
    with pytest.raises(aiohttp_takeover.TakeoverUnsupported) as refused:
        notifier.app.create_app(StackSettings.of().notifier)
    assert f"aiohttp {version} is installed" in str(refused.value)
    assert "Set ML_NOTIFIER_SOCKETS=aiohttp" in str(refused.value)
    # aiohttp's own sockets need nothing of its internals.
    notifier.app.create_app(StackSettings.of(notifier_sockets="aiohttp").notifier)


def test_the_installed_aiohttp_is_one_the_takeover_was_checked_against() -> None:
    aiohttp_takeover.check_supported()
    notifier.app.create_app(StackSettings.of().notifier)


def test_a_connection_not_held_by_aiohttps_own_request_handler_is_refused() -> None:
    request = make_mocked_request(
        "GET", "/", headers={"Upgrade": "websocket", "Connection": "Upgrade"}
    )
    with pytest.raises(aiohttp_takeover.TakeoverUnsupported, match="ML_NOTIFIER_SOCKETS=aiohttp"):
        aiohttp_takeover.take_over(request, Echo(), SWITCHED)


async def test_the_handler_runs_on_after_the_takeover_under_handler_cancellation() -> None:
    """aiohttp's TestServer cancels a handler whose client left; this one did not leave."""
    then = asyncio.Event()
    async with TestServer(echo_app(Echo, then)) as server:
        assert server.runner is not None
        assert server.runner.server is not None
        assert server.runner.server.handler_cancellation
        reader, writer = await upgrade(server.port or 0)
        then.set()
        assert await asyncio.wait_for(reader.readexactly(5), WAIT) == b"after"
        writer.write(b"still mine")
        assert await asyncio.wait_for(reader.readexactly(10), WAIT) == b"still mine"
        writer.close()


async def test_bytes_sent_with_the_upgrade_request_reach_the_new_protocol() -> None:
    async with TestServer(echo_app(Echo)) as server:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(UPGRADE + b"early")
        assert await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), WAIT) == SWITCHED
        assert await asyncio.wait_for(reader.readexactly(5), WAIT) == b"early"
        writer.close()


async def test_the_servers_graceful_shutdown_closes_taken_over_connections() -> None:
    app = echo_app(Echo)
    runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=60)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    reader, writer = await upgrade(runner.addresses[0][1])
    # The connection says goodbye as the runner stops, which does not wait out its timeout.
    await asyncio.wait_for(runner.cleanup(), WAIT)
    assert await asyncio.wait_for(reader.read(), WAIT) == b"bye"
    writer.close()


async def test_a_connection_that_does_not_close_is_dropped_at_the_shutdown_timeout() -> None:
    app = echo_app(lambda: Echo(deaf=True))
    runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=0.5)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    reader, writer = await upgrade(runner.addresses[0][1])
    await asyncio.wait_for(runner.cleanup(), WAIT)
    assert await asyncio.wait_for(reader.read(), WAIT) == b""  # dropped without a "bye"
    writer.close()


def test_a_lean_socket_on_uvloop_answers_and_closes_when_its_server_stops() -> None:
    """The services run on uvloop (shared.runtime.run), whose transports are not asyncio's."""

    async def scenario() -> None:
        gone: list[TicketSocket] = []

        async def handler(request: web.Request) -> web.Response:
            sock = TicketSocket.take_over(request, "t", gone.append)
            sock.push({"version": 1, "status": "pending"})
            sock.listen()
            return web.Response(status=101)

        app = web.Application()
        app.router.add_get("/", handler)
        runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=5)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        reader, writer = await asyncio.open_connection("127.0.0.1", runner.addresses[0][1])
        writer.write(
            UPGRADE.replace(
                b"\r\n\r\n",
                b"\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: "
                + base64.b64encode(os.urandom(16))
                + b"\r\n\r\n",
            )
        )
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), WAIT)
        assert head.startswith(b"HTTP/1.1 101 ")
        raw = RawSocket(reader, writer)
        assert await raw.frame() == (TEXT, b'{"version": 1, "status": "pending"}')
        raw.text("ping")
        assert await raw.frame() == (TEXT, b"pong")
        stopping = asyncio.ensure_future(runner.cleanup())
        opcode, payload = await raw.frame()
        assert (opcode, payload[:2]) == (CLOSE, struct.pack("!H", 1001))
        raw.send(CLOSE, payload[:2])
        assert await asyncio.wait_for(reader.read(), WAIT) == b""
        await asyncio.wait_for(stopping, WAIT)
        assert gone
        writer.close()

    with concurrent.futures.ThreadPoolExecutor(1) as thread:
        thread.submit(uvloop.run, asyncio.wait_for(scenario(), 20)).result()
