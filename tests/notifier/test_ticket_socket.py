"""What a waiting browser sees of its WebSocket besides status changes: pings answered,
dead peers dropped by the heartbeat, bad frames refused, a clean close when the notifier
stops, and a plain HTTP error when the request is not a WebSocket upgrade."""

from __future__ import annotations

import aiohttp
import pytest
from aiohttp import WSMsgType, web
from minilogin_testkit import Browser, Stack, next_status

import notifier.app
from notifier.context import NOTIFIER
from notifier.hub import Hub

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


async def test_a_stopping_notifier_closes_its_sockets_as_going_away(real_stack: Stack) -> None:
    """A replica being replaced tells its browsers to reconnect (to another replica)."""
    app = notifier.app.create_app(real_stack.settings.notifier, real_stack.clock)
    runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=2)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        ws = await _connect(real_stack.browser(), f"http://127.0.0.1:{port}")
    finally:
        await runner.cleanup()
    msg = await ws.receive(timeout=5)
    assert msg.type == WSMsgType.CLOSE
    assert msg.data == aiohttp.WSCloseCode.GOING_AWAY
    await ws.close()
