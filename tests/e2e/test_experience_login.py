"""A connection's try link (the seed's "Experience login"): the operator logs in through the
connection as an end user would, and after a success the browser lands on the connection's
callback_url; without one, on our page naming the account. A refusal, or an answer this
browser did not start, goes nowhere but our explanation."""

from __future__ import annotations

import html
import json
import re
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from minilogin_testkit import Browser, Stack, wait_for_status
from multidict import CIMultiDictProxy

from shared.settings import DEV_ADMIN_TOKEN

ADMIN = {"Authorization": f"Bearer {DEV_ADMIN_TOKEN}"}
CALLBACK = "https://shop.example/welcome?from=minilogin"


async def _connection(stack: Stack, cid: str, **fields: Any) -> dict[str, Any]:
    return await stack.add_connection(id=cid, display_name=f"Shop {cid}", **fields)


async def _start(stack: Stack, browser: Browser, try_url: str) -> dict[str, Any]:
    """Follow the try link to the hosted page and create its ticket, as login.js does."""
    async with browser.session.get(try_url, allow_redirects=False) as r:
        assert r.status == 302, await r.text()
        login = r.headers["Location"]
    assert login.startswith("/login?")
    async with browser.session.get(stack.url(login)) as r:
        assert r.status == 200
        found = re.search(r'data-config="([^"]*)"', await r.text())
    assert found
    request = json.loads(html.unescape(found.group(1)))["request"]
    async with browser.session.post(stack.url("/api/v1/tickets"), json=request) as r:
        assert r.status == 201, await r.text()
        ticket: dict[str, Any] = await r.json()
        return ticket


async def _log_in(stack: Stack, browser: Browser, ticket: str, openid: str) -> str:
    """The phone scans and confirms; where the hosted page sends the browser."""
    async with browser.socket(ticket) as ws:
        status, scan = await stack.scan(ticket, openid)
        assert status == 200, scan
        await stack.post("/mp/v1/confirm", {"ticket": ticket, "session": scan["session"]})
        done = await wait_for_status(ws, "succeeded")
    url: str = done["redirect_url"]
    return url


async def _landing(
    stack: Stack, browser: Browser, query: str, language: str | None = None
) -> tuple[int, CIMultiDictProxy[str], str]:
    """Where the hosted page sends the browser after an experience login (`query`: its
    answer), read by `browser` in `language`, not following a redirect: the status, the
    headers and the page."""
    headers = {"Accept-Language": language} if language else {}
    async with browser.session.get(
        stack.url("/oauth/connections/try/done") + "?" + query,
        headers=headers,
        allow_redirects=False,
    ) as r:
        return r.status, r.headers, await r.text()


async def test_the_admin_api_gives_each_connection_its_try_link(stack: Stack) -> None:
    created = await _connection(stack, "tryme", callback_url=CALLBACK)
    assert created["try_url"] == f"{stack.public}/oauth/connections/tryme/try"
    async with stack.http.get(stack.url("/admin/v1/connections"), headers=ADMIN) as r:
        listed = {c["id"]: c for c in (await r.json())["connections"]}
    assert listed["tryme"]["try_url"] == created["try_url"]


async def test_after_an_experience_login_the_browser_lands_on_the_callback_url(
    stack: Stack,
) -> None:
    created = await _connection(stack, "tryme", callback_url=CALLBACK)  # no app needed
    browser = stack.browser()
    ticket = await _start(stack, browser, stack.url(urlsplit(created["try_url"]).path))
    assert ticket["connection"]["id"] == "tryme"
    answer = await _log_in(stack, browser, ticket["ticket"], (await stack.users())[0]["openid"])
    assert answer.startswith(f"{stack.public}/oauth/connections/try/done?")

    status, headers, page = await _landing(stack, browser, urlsplit(answer).query)
    assert status == 303, page
    assert headers["Location"] == CALLBACK
    # The answer was used: the same link again is refused, and lands nowhere.
    status, _, _ = await _landing(stack, browser, urlsplit(answer).query)
    assert status == 400
    assert await stack.db.users.count_documents({}) == 1


async def test_without_a_callback_url_our_page_names_the_account(stack: Stack) -> None:
    created = await _connection(stack, "tryme")
    browser = stack.browser()
    ticket = await _start(stack, browser, stack.url(urlsplit(created["try_url"]).path))
    answer = await _log_in(stack, browser, ticket["ticket"], (await stack.users())[0]["openid"])

    status, _, page = await _landing(stack, browser, urlsplit(answer).query, "en")
    assert status == 200
    assert "Experience login succeeded" in page
    assert "Shop tryme" in page
    user = await stack.db.users.find_one({})
    assert html.escape(user["nickname"] or user["_id"]) in page


async def test_an_answer_this_browser_did_not_start_is_refused(stack: Stack) -> None:
    created = await _connection(stack, "tryme", callback_url=CALLBACK)
    starter = stack.browser()
    ticket = await _start(stack, starter, stack.url(urlsplit(created["try_url"]).path))
    answer = await _log_in(stack, starter, ticket["ticket"], (await stack.users())[0]["openid"])

    other = stack.browser()
    status, headers, page = await _landing(stack, other, urlsplit(answer).query)
    assert status == 400
    assert "Location" not in headers
    assert "不是在这个浏览器中开始的" in page


async def test_a_refused_experience_login_is_explained_and_does_not_land_on_the_callback(
    stack: Stack,
) -> None:
    created = await _connection(stack, "members", callback_url=CALLBACK, login_mode="login_only")
    browser = stack.browser()
    async with browser.session.get(
        stack.url(urlsplit(created["try_url"]).path), allow_redirects=False
    ) as r:
        state = parse_qs(urlsplit(r.headers["Location"]).query)["state"][0]
    # What the hosted page sends back after the refusal (login.js answers the site so).
    query = {
        "error": "access_denied",
        "error_description": "The connection lets only existing accounts log in.",
        "state": state,
        "iss": stack.public,
    }
    status, _, page = await _landing(stack, browser, urlencode(query), "en-US")
    assert status == 200
    assert "did not succeed" in page
    assert "only existing accounts" in page
    assert 'href="/oauth/connections/members/try"' in page


async def test_an_unknown_connection_has_no_try_link(stack: Stack) -> None:
    async with stack.http.get(stack.url("/oauth/connections/nobody/try")) as r:
        assert r.status == 404
        # The RFC 6749 shape of every answer under /oauth/.
        assert (await r.json())["error"] == "unknown_connection"
