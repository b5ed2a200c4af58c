"""Same-device login and a site's own page: the browser holding a ticket gets a WeChat link
that opens the mini program's confirm page with that ticket; nobody else does; a page the
app registered may use the ticket API from its origin (CORS with credentials); the SDK is
served."""

from __future__ import annotations

from typing import Any

from minilogin_testkit import Browser, Stack, pkce

SHOP = "http://shop.127.0.0.1.nip.example:8080"  # another origin the demo app registers


async def _link(browser: Browser, ticket: str, **kw: Any) -> tuple[int, Any]:
    url = browser.stack.url(f"/api/v1/tickets/{ticket}/wechat-link")
    async with browser.session.post(url, **kw) as r:
        return r.status, await r.json()


async def _open(stack: Stack, url: str) -> tuple[int, Any]:
    async with stack.http.post(f"{stack.sandbox_url}/__sandbox/open-link", json={"url": url}) as r:
        return r.status, await r.json()


async def test_the_ticket_holder_gets_a_scheme_that_opens_the_confirm_page(stack: Stack) -> None:
    browser = stack.browser()
    ticket, _ = await browser.ticket()
    status, link = await _link(browser, ticket["ticket"])
    assert status == 200, link
    assert link["kind"] == "scheme"
    assert link["url"].startswith("weixin://dl/business/?t=")
    assert link["expires_at"] == int(ticket["expires_at"])
    status, opened = await _open(stack, link["url"])
    assert status == 200
    # The page a scan of the code opens, with the ticket where the page reads it.
    assert opened["page"] == "pages/login/login"
    assert opened["query"] == f"scene={ticket['ticket']}"
    assert opened["launch_scene"] == 1065


async def test_no_other_browser_gets_a_link(stack: Stack) -> None:
    owner, stranger = stack.browser(), stack.browser()
    ticket, _ = await owner.ticket()
    await stranger.ticket()  # a cookie of its own, for another ticket
    status, body = await _link(stranger, ticket["ticket"])
    assert (status, body["error"]["code"]) == (403, "forbidden")
    async with stack.http.post(stack.url(f"/api/v1/tickets/{ticket['ticket']}/wechat-link")) as r:
        assert (r.status, (await r.json())["error"]["code"]) == (401, "unauthorized")


async def test_a_scanned_ticket_needs_no_link_and_links_are_few(stack: Stack) -> None:
    browser = stack.browser()
    ticket, _ = await browser.ticket()
    for _ in range(3):
        status, _body = await _link(browser, ticket["ticket"])
        assert status == 200
    status, body = await _link(browser, ticket["ticket"])
    assert (status, body["error"]["code"]) == (429, "rate_limited")

    other, _ = await browser.ticket()
    await stack.scan(other["ticket"], (await stack.users())[0]["openid"])
    status, body = await _link(browser, other["ticket"])
    assert (status, body["error"]["code"]) == (409, "ticket_not_pending")


async def test_wechats_refusal_is_a_json_error(stack: Stack) -> None:
    browser = stack.browser()
    ticket, _ = await browser.ticket()
    await stack.wechat_fault("/wxa/generatescheme", 85079)
    status, body = await _link(browser, ticket["ticket"])
    assert (status, body["error"]["code"]) == (502, "wechat_link_not_allowed")


async def test_a_registered_page_may_use_the_ticket_api_from_its_origin(stack: Stack) -> None:
    await stack.db.apps.update_one({"client_id": "demo"}, {"$push": {"web_origins": SHOP}})
    browser = stack.browser()
    body = {
        "client_id": "demo",
        "redirect_uri": stack.redirect_uri,
        "code_challenge": pkce()[1],
    }
    async with browser.session.post(
        stack.url("/api/v1/tickets"), json=body, headers={"Origin": SHOP}
    ) as r:
        assert r.status == 201
        assert r.headers["Access-Control-Allow-Origin"] == SHOP
        assert r.headers["Access-Control-Allow-Credentials"] == "true"
        ticket = await r.json()
    async with browser.session.options(
        stack.url("/api/v1/tickets"),
        headers={"Origin": SHOP, "Access-Control-Request-Method": "POST"},
    ) as r:
        assert r.status == 204
        assert "Content-Type" in r.headers["Access-Control-Allow-Headers"]
    async with browser.session.get(
        stack.url(f"/api/v1/tickets/{ticket['ticket']}"), headers={"Origin": SHOP}
    ) as r:
        assert r.status == 200
        assert r.headers["Access-Control-Allow-Origin"] == SHOP
        assert r.headers["Access-Control-Allow-Credentials"] == "true"
    async with browser.session.get(
        stack.url(f"/api/v1/tickets/{ticket['ticket']}"), headers={"Origin": "http://evil.test"}
    ) as r:
        assert "Access-Control-Allow-Origin" not in r.headers


async def test_the_sdk_and_its_types_are_served(stack: Stack) -> None:
    async with stack.http.get(stack.url("/sdk/minilogin.js")) as r:
        assert r.status == 200
        assert r.content_type == "application/javascript"
        assert "authorization_response" in await r.text()
    async with stack.http.get(stack.url("/sdk/minilogin.d.ts")) as r:
        assert r.status == 200
        assert "onSuccess" in await r.text()
    async with stack.http.get(stack.url("/sdk/other.js")) as r:
        assert (r.status, (await r.json())["error"]["code"]) == (404, "not_found")
