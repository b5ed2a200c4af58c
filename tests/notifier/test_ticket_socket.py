"""What a waiting browser sees of its WebSocket besides status changes: pings answered,
dead peers dropped by the heartbeat, bad frames refused, a normal close after the final
status, a clean close when the notifier stops, and a plain HTTP error when the request is
not a WebSocket upgrade. (Frame by frame: test_frames.)"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import WSMsgType, web
from minilogin_testkit import Browser, Stack, next_status, wait_for_status
from raw_socket import RawSocket
from redis.exceptions import TimeoutError as RedisTimeoutError

import notifier.app
from notifier.context import NOTIFIER
from notifier.hub import BrowserSocket, Hub
from shared.tickets import Ticket

Socket = aiohttp.ClientWebSocketResponse


def _hub(stack: Stack) -> Hub:
    return stack.apps["notifier"][NOTIFIER].hub


async def _connect(browser: Browser, base: str, *, autoping: bool = True) -> Socket:
    ticket, _ = await browser.ticket()
    url = base.replace("http", "ws", 1) + f"/ws/tickets/{ticket['ticket']}"
    ws = await browser.session.ws_connect(url, autoping=autoping)
    assert (await next_status(ws))["status"] == "pending"
    return ws


@pytest.fixture
async def browser(stack: Stack) -> Browser:
    return stack.browser()


async def test_ping_text_gets_pong_and_protocol_pings_are_answered(
    stack: Stack, browser: Browser
) -> None:
    ws = await _connect(browser, stack.notifiers[0], autoping=False)
    await ws.send_str("ping")
    assert await ws.receive_str(timeout=5) == "pong"
    await ws.ping(b"are you there")
    msg = await ws.receive(timeout=5)
    assert (msg.type, msg.data) == (WSMsgType.PONG, b"are you there")
    await ws.close()


async def test_the_heartbeat_drops_a_silent_browser_and_keeps_one_that_answers(
    stack: Stack, browser: Browser
) -> None:
    answering = await _connect(browser, stack.notifiers[0], autoping=False)
    silent = await _connect(browser, stack.notifiers[0], autoping=False)
    hub = _hub(stack)

    hub.heartbeat()
    for ws in (answering, silent):
        assert (await ws.receive(timeout=5)).type == WSMsgType.PING
    await answering.pong()
    # Frames are handled in order: once "pong" comes back, the heartbeat's pong is in.
    await answering.send_str("ping")
    assert await answering.receive_str(timeout=5) == "pong"

    hub.heartbeat()
    assert (await silent.receive(timeout=5)).type in (WSMsgType.CLOSED, WSMsgType.ERROR)
    assert (await answering.receive(timeout=5)).type == WSMsgType.PING
    assert not answering.closed
    await answering.close()


async def test_an_oversized_message_closes_the_socket_as_too_big(
    stack: Stack, browser: Browser
) -> None:
    ws = await _connect(browser, stack.notifiers[0])
    await ws.send_str("x" * 5000)
    msg = await ws.receive(timeout=5)
    assert msg.type == WSMsgType.CLOSE
    assert msg.data == aiohttp.WSCloseCode.MESSAGE_TOO_BIG


async def test_a_plain_get_of_the_socket_url_is_a_json_error(
    stack: Stack, browser: Browser
) -> None:
    ticket, _ = await browser.ticket()
    url = stack.notifiers[0] + f"/ws/tickets/{ticket['ticket']}"
    async with browser.session.get(url) as r:
        assert r.status == 400
        assert (await r.json())["error"]["code"]


@contextlib.asynccontextmanager
async def _replica(stack: Stack, shutdown_timeout: float) -> AsyncIterator[web.AppRunner]:
    """One more notifier replica on the real stack's broker and Redis; stopped by the test."""
    app = notifier.app.create_app(stack.settings.notifier, stack.clock)
    runner = web.AppRunner(
        app, access_log=None, handle_signals=False, shutdown_timeout=shutdown_timeout
    )
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        yield runner
    finally:
        await runner.cleanup()  # a no-op once the test stopped it


async def test_a_stopping_notifier_closes_its_sockets_as_going_away(real_stack: Stack) -> None:
    """A replica being replaced tells its browsers to reconnect (to another replica), and
    stops as soon as they have answered, without waiting out its shutdown timeout."""
    async with _replica(real_stack, shutdown_timeout=60) as runner:
        ws = await _connect(real_stack.browser(), f"http://127.0.0.1:{runner.addresses[0][1]}")
        stopping = asyncio.ensure_future(runner.cleanup())
        msg = await ws.receive(timeout=5)  # the client answers the close frame here
        assert msg.type == WSMsgType.CLOSE
        assert msg.data == aiohttp.WSCloseCode.GOING_AWAY
        await asyncio.wait_for(stopping, 10)
        assert ws.closed


async def test_a_stopping_notifier_drops_a_browser_that_does_not_answer(
    real_stack: Stack,
) -> None:
    async with _replica(real_stack, shutdown_timeout=1) as runner:
        base = f"http://127.0.0.1:{runner.addresses[0][1]}"
        raw = await RawSocket.connect(real_stack.browser(), base)
        stopping = asyncio.ensure_future(runner.cleanup())
        assert await raw.closed_with() == aiohttp.WSCloseCode.GOING_AWAY
        await asyncio.wait_for(stopping, 10)
        raw.end()


async def test_the_final_status_is_followed_by_a_normal_close(
    stack: Stack, browser: Browser
) -> None:
    user = (await stack.users())[0]
    ticket, _ = await browser.ticket()
    async with browser.socket(ticket["ticket"]) as ws:
        assert (await next_status(ws))["status"] == "pending"
        status, scan = await stack.scan(ticket["ticket"], user["openid"])
        assert status == 200, scan
        await stack.post("/mp/v1/confirm", {"ticket": ticket["ticket"], "session": scan["session"]})
        await wait_for_status(ws, "succeeded")
        msg = await ws.receive(timeout=5)
        assert msg.type == WSMsgType.CLOSE
        assert msg.data == aiohttp.WSCloseCode.OK


async def test_a_browser_that_leaves_is_forgotten(
    stack: Stack, browser: Browser, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The hub holds no socket of a browser that left, and the ticket's expiry is no longer
    watched for it."""
    hub = _hub(stack)
    ws = await _connect(browser, stack.notifiers[0])
    assert len(hub) == 1
    left = asyncio.Event()
    remove = hub.remove

    def removed(sock: BrowserSocket) -> bool:
        last = remove(sock)
        left.set()
        return last

    monkeypatch.setattr(hub, "remove", removed)
    await ws.close()
    await asyncio.wait_for(left.wait(), 5)
    assert len(hub) == 0


async def test_a_change_whose_ticket_redis_could_not_give_is_read_again_and_told(
    stack: Stack, browser: Browser, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The event comes on the notifier's fan-out queue, which never redelivers: a read of the
    # ticket that fails (Redis paused) must be tried again, or the browser hears nothing
    # until the ticket's end.
    user = (await stack.users())[0]
    n = stack.apps["notifier"][NOTIFIER]
    ticket, _ = await browser.ticket()
    async with browser.socket(ticket["ticket"]) as ws:
        assert (await next_status(ws))["status"] == "pending"
        real = n.ticket
        outage = [RedisTimeoutError("Timeout reading from socket")] * 2

        async def paused_twice(ticket_id: str) -> Ticket | None:
            if outage:
                raise outage.pop()
            return await real(ticket_id)

        monkeypatch.setattr(n, "ticket", paused_twice)
        status, scan = await stack.scan(ticket["ticket"], user["openid"])
        assert status == 200, scan
        assert (await next_status(ws))["status"] == "scanned"
        assert outage == []
