"""Ask-binding end to end: a login the connection asks to bind goes on on the binding page in
the browser that made the ticket; linking an existing account (email or phone and password)
or creating a new one ends in the site's code, redeemed for an ID token of the right account;
the next scan by the same WeChat user logs straight in. Redirect and popup (web_message)
alike; the page refuses another browser, a finished login and, on a login-only connection, a
new account."""

from __future__ import annotations

from typing import Any

import pytest
from minilogin_testkit import (
    BINDER_EMAIL,
    BINDER_PASSWORD,
    Browser,
    Stack,
    ask_binding_setup,
    code_from,
    next_status,
)

from shared.clock import FakeClock

EMAIL, PASSWORD = BINDER_EMAIL, BINDER_PASSWORD


async def _setup(stack: Stack, **connection: Any) -> str:
    """An ask-binding connection for the demo app and a local account; the account's id."""
    return await ask_binding_setup(stack, "Ask Me", {"phone": "+8613900001234"}, **connection)


async def _needs_binding(
    stack: Stack, openid: str, mode: str = "query"
) -> tuple[Browser, dict[str, Any], str]:
    """A login through ask-me that ends in binding_required, as its browser is told."""
    browser = stack.browser()
    status, ticket, verifier = await browser.create_ticket(connection="ask-me", response_mode=mode)
    assert status == 201, ticket
    _, confirmed, told = await browser.scan_and_confirm(ticket["ticket"], openid)
    assert confirmed["outcome"] == "binding_required"
    assert told["status"] == "binding_required", told
    return browser, ticket, verifier


async def _bind(
    browser: Browser, ticket: dict[str, Any], action: str, body: dict[str, Any]
) -> tuple[int, Any]:
    url = browser.stack.url(f"/bind/{ticket['ticket']}/{action}")
    async with browser.session.post(url, json=body) as r:
        return r.status, await r.json()


async def _page(browser: Browser, ticket: dict[str, Any]) -> tuple[int, str]:
    async with browser.session.get(browser.stack.url(f"/bind/{ticket['ticket']}")) as r:
        return r.status, await r.text()


async def _id_token(stack: Stack, redirect_url: str, verifier: str) -> dict[str, Any]:
    code, state = code_from(redirect_url)
    assert state.startswith("st-")
    status, tokens = await stack.exchange(code, verifier)
    assert status == 200, tokens
    return await stack.verify_id_token(tokens["id_token"])


@pytest.mark.parametrize("mode", ["query", "web_message"])
async def test_linking_an_existing_account_logs_in_to_it_and_the_next_scan_goes_straight_in(
    stack: Stack, mode: str
) -> None:
    user_id = await _setup(stack)
    wechat = (await stack.users())[2]
    browser, ticket, verifier = await _needs_binding(stack, wechat["openid"], mode)

    status, page = await _page(browser, ticket)
    assert status == 200
    assert "bind.js" in page
    assert "Ask Me" in page
    status, wrong = await _bind(browser, ticket, "sign-in", {"login": EMAIL, "password": "nope"})
    assert (status, wrong["error"]["code"]) == (401, "invalid_credentials")
    # By email in one mode, by phone number (as a person types it) in the other.
    login = EMAIL if mode == "query" else "+86 139 0000 1234"
    status, done = await _bind(browser, ticket, "sign-in", {"login": login, "password": PASSWORD})
    assert status == 200, done
    assert done["status"] == "succeeded"

    claims = await _id_token(stack, done["redirect_url"], verifier)
    assert claims["sub"] == user_id
    # The identity is bound: the same WeChat user's next scan logs straight in to it.
    browser2 = stack.browser()
    status, second, verifier2 = await browser2.create_ticket(connection="ask-me")
    async with browser2.socket(second["ticket"]) as ws:
        _, scan = await stack.scan(second["ticket"], wechat["openid"])
        _, confirmed = await stack.post(
            "/mp/v1/confirm", {"ticket": second["ticket"], "session": scan["session"]}
        )
        assert confirmed["outcome"] == "succeeded"
        while (msg := await next_status(ws))["status"] != "succeeded":
            pass
    assert (await _id_token(stack, msg["redirect_url"], verifier2))["sub"] == user_id


@pytest.mark.parametrize("mode", ["query", "web_message"])
async def test_creating_a_new_account_logs_in_to_it(stack: Stack, mode: str) -> None:
    existing = await _setup(stack)
    wechat = (await stack.users())[2]
    browser, ticket, verifier = await _needs_binding(stack, wechat["openid"], mode)

    status, done = await _bind(browser, ticket, "new-account", {})
    assert status == 200, done

    claims = await _id_token(stack, done["redirect_url"], verifier)
    assert claims["sub"] not in (existing, "")
    identity = await stack.db.identities.find_one({"openid": wechat["openid"]})
    assert identity["user_id"] == claims["sub"]
    record = await stack.db.audit.find_one({"kind": "binding"})
    assert (record["outcome"], record["reason"]) == ("succeeded", "created_account")
    assert record["user_id"] == claims["sub"]
    # A finished binding cannot be used again (a second tab, a replay).
    status, again = await _bind(browser, ticket, "new-account", {})
    assert (status, again["error"]["code"]) == (409, "binding_not_open")


async def test_a_login_only_connection_offers_no_new_account(stack: Stack) -> None:
    await _setup(stack, login_mode="login_only")
    browser, ticket, _ = await _needs_binding(stack, (await stack.users())[2]["openid"])

    _, page = await _page(browser, ticket)
    assert "&quot;canCreate&quot;: false" in page
    status, body = await _bind(browser, ticket, "new-account", {})
    assert (status, body["error"]["code"]) == (403, "new_account_not_allowed")
    assert await stack.db.identities.count_documents({}) == 0


async def test_only_the_browser_that_made_the_ticket_may_bind(stack: Stack) -> None:
    await _setup(stack)
    _, ticket, _ = await _needs_binding(stack, (await stack.users())[2]["openid"])
    stranger = stack.browser()

    status, page = await _page(stranger, ticket)
    assert status == 401
    assert "bind.js" in page  # a page that says why, in both languages
    status, body = await _bind(stranger, ticket, "sign-in", {"login": EMAIL, "password": PASSWORD})
    assert (status, body["error"]["code"]) == (401, "unauthorized")
    status, body = await _bind(stranger, ticket, "sign-in", {"login": EMAIL})
    assert status in (400, 401)
    assert set(body["error"]) >= {"code", "message"}


async def test_a_ticket_that_needs_no_binding_has_no_binding_page(stack: Stack) -> None:
    browser = stack.browser()
    ticket, _ = await browser.ticket()
    status, body = await _bind(browser, ticket, "new-account", {})
    assert (status, body["error"]["code"]) == (409, "binding_not_open")
    status, body = await _bind(browser, {"ticket": "A" * 22}, "new-account", {})
    assert status == 404


async def test_the_binding_page_closes_five_minutes_after_the_login_asked(
    fake_clock_stack: Stack,
) -> None:
    stack = fake_clock_stack
    assert isinstance(stack.clock, FakeClock)
    await _setup(stack)
    browser, ticket, _ = await _needs_binding(stack, (await stack.users())[2]["openid"])
    stack.clock.advance(301)

    status, page = await _page(browser, ticket)
    assert status == 410
    assert "binding_expired" in page
    status, body = await _bind(browser, ticket, "sign-in", {"login": EMAIL, "password": PASSWORD})
    assert (status, body["error"]["code"]) == (410, "binding_expired")
    assert await stack.db.identities.count_documents({}) == 0
