"""The browser-binding cookie: minted by the server for every ticket, `__Host-` on https."""

from __future__ import annotations

from collections.abc import AsyncIterator
from http.cookies import SimpleCookie

import aiohttp
import pytest
from minilogin_testkit import Stack, next_status, start_stack
from yarl import URL

from shared.clock import SystemClock

PLANTED = "A" * 43  # well-formed: the shape the old code kept


async def test_a_cookie_the_browser_brings_is_never_kept(stack: Stack) -> None:
    victim = stack.browser()
    # An attacker planted a binding cookie whose value they know (session fixation).
    victim.session.cookie_jar.update_cookies({"ml_binding": PLANTED}, URL(stack.public))
    status, ticket, _ = await victim.create_ticket()
    assert status == 201, ticket

    minted = victim.session.cookie_jar.filter_cookies(URL(stack.public))["ml_binding"].value
    assert minted != PLANTED
    attacker = stack.browser()
    attacker.session.cookie_jar.update_cookies({"ml_binding": PLANTED}, URL(stack.public))
    async with attacker.session.get(stack.url(ticket["status_url"])) as r:
        assert r.status == 403
    async with victim.session.get(stack.url(ticket["status_url"])) as r:
        assert r.status == 200


async def test_each_ticket_gets_a_new_secret(stack: Stack) -> None:
    browser = stack.browser()
    values = set()
    for _ in range(2):
        await browser.ticket()
        values.add(browser.session.cookie_jar.filter_cookies(URL(stack.public))["ml_binding"].value)
    assert len(values) == 2


@pytest.fixture
async def https_stack(stack_kind: str, mongo_url: str, namespace: str) -> AsyncIterator[Stack]:
    """The services believe they are served at an https origin (a TLS proxy in front)."""
    async with start_stack(
        stack_kind, mongo_url, namespace, SystemClock(), public_url="https://login.example"
    ) as s:
        yield s


async def test_on_https_the_cookie_is_host_prefixed_secure_and_read_everywhere(
    https_stack: Stack,
) -> None:
    stack = https_stack
    # The test talks plain http to the services, so it reads and sends the cookie itself.
    async with stack.http.post(
        stack.url("/api/v1/tickets"),
        json={
            "client_id": "demo",
            "redirect_uri": stack.redirect_uri,
            "code_challenge": "A" * 43,
        },
    ) as r:
        assert r.status == 201, await r.text()
        ticket = await r.json()
        set_cookies = r.headers.getall("Set-Cookie")
    assert len(set_cookies) == 1
    jar: SimpleCookie = SimpleCookie(set_cookies[0])
    assert list(jar) == ["__Host-ml_binding"]
    morsel = jar["__Host-ml_binding"]
    assert morsel["secure"]
    assert morsel["httponly"]
    assert (morsel["path"], morsel["domain"], morsel["samesite"]) == ("/", "", "Strict")

    cookie = {"Cookie": f"__Host-ml_binding={morsel.value}"}
    async with stack.http.get(stack.url(ticket["status_url"]), headers=cookie) as r:
        assert r.status == 200
    url = stack.notifiers[0].replace("http", "ws", 1) + ticket["websocket_url"]
    async with aiohttp.ClientSession() as plain, plain.ws_connect(url, headers=cookie) as ws:
        assert (await next_status(ws))["status"] == "pending"
