"""The hosted login page in real Chromium over the whole stack: every way a login ends
reaches the site (a redirect to its redirect_uri, or a Web Message to its opener), with state
and iss; an expired code can be replaced; a dropped or blocked WebSocket does not lose the
result; both languages; axe-core finds nothing on any screen. Each screen is photographed.

The phone's side goes through the mini program API (scan, confirm, cancel), and the site is
a stub page answered at the registered redirect_uri, so what the site receives is recorded."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from axe import assert_accessible
from browserkit import screenshot_dir
from minilogin_testkit import Stack, login_url
from playwright.async_api import (
    Browser,
    BrowserContext,
    Page,
    Request,
    Route,
    ViewportSize,
    WebSocketRoute,
)

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("stack_kind", ["embedded"])]
SITE = "<!doctype html><html lang='en'><title>The site</title><main><p>The site</p></main></html>"
TICKETS = re.compile(r"/api/v1/tickets$")
TICKET_STATUS = re.compile(r"/api/v1/tickets/[0-9A-Za-z]{22}$")
PHONE = ViewportSize(width=390, height=844)
WECHAT_LINK = "weixin://dl/business/?t=abc"
STATUS_SAYS = "(text) => document.getElementById('status').textContent.includes(text)"
REFUSAL_IDS = ["invalid_request", "unsupported_response_type", "invalid_scope", "login_required"]


async def _shot(page: Page, name: str) -> None:
    await page.screenshot(path=str(screenshot_dir() / f"login-{name}.png"))


class Site:
    """The relying party: a stub page at its redirect_uri that records what arrives there."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.arrivals: list[str] = []

    async def serve(self, context: BrowserContext) -> None:
        async def answer(route: Route) -> None:
            self.arrivals.append(route.request.url)
            await route.fulfill(status=200, content_type="text/html", body=SITE)

        await context.route(re.compile(re.escape(self.stack.redirect_uri) + r"(\?.*)?$"), answer)

    async def page(self, chromium: Browser, **options: Any) -> Page:
        """A page in a new browser context (`options`, such as its locale) where this site
        answers at its redirect_uri."""
        context = await chromium.new_context(**options)
        await self.serve(context)
        return await context.new_page()

    async def received(self, page: Page) -> dict[str, str]:
        """The query of the redirect the site received (waiting for it)."""
        await page.wait_for_url(re.compile(re.escape(self.stack.redirect_uri) + r"\?"))
        query = parse_qs(urlsplit(page.url).query)
        return {k: v[0] for k, v in query.items()}


class Opener:
    """The site's own window that opens the login in a popup (response_mode=web_message)."""

    def __init__(self, page: Page) -> None:
        self.page = page

    async def messages(self) -> list[dict[str, Any]]:
        got: list[dict[str, Any]] = await self.page.evaluate("window.got")
        return got

    async def wait_for_message(self) -> dict[str, Any]:
        await self.page.wait_for_function("() => window.got.length > 0")
        (message,) = await self.messages()
        return message


@pytest.fixture
async def site(stack: Stack) -> Site:
    return Site(stack)


async def _open(page: Page, url: str) -> dict[str, Any]:
    """Go to the login page; the ticket it creates."""
    async with page.expect_response(
        lambda r: bool(TICKETS.search(r.url)) and r.status == 201
    ) as created:
        await page.goto(url)
    ticket: dict[str, Any] = await (await created.value).json()
    await page.wait_for_selector("#qr:not([hidden])")
    return ticket


async def _popup(
    chromium: Browser, site: Site, url: str, *, ticket: bool = True
) -> tuple[Opener, Page, dict[str, Any] | None]:
    context = await chromium.new_context(locale="en-US")
    await site.serve(context)
    page = await context.new_page()
    await page.goto(site.stack.redirect_uri)
    await page.evaluate(
        "window.got = []; addEventListener('message',"
        " (e) => got.push({origin: e.origin, data: e.data}))"
    )
    created = None
    async with context.expect_page() as popup_info:
        if ticket:
            async with context.expect_event(
                "response", lambda r: bool(TICKETS.search(r.url)) and r.status == 201
            ) as response:
                await page.evaluate("(url) => { window.popup = window.open(url, 'login') }", url)
            created = await (await response.value).json()
        else:
            await page.evaluate("(url) => { window.popup = window.open(url, 'login') }", url)
    return Opener(page), await popup_info.value, created


async def _scan(stack: Stack, ticket: dict[str, Any], n: int = 0) -> str:
    user = (await stack.users())[n]
    status, scan = await stack.scan(ticket["ticket"], user["openid"])
    assert status == 200, scan
    session: str = scan["session"]
    return session


async def _confirm(stack: Stack, ticket: dict[str, Any], session: str) -> None:
    status, body = await stack.post(
        "/mp/v1/confirm", {"ticket": ticket["ticket"], "session": session}
    )
    assert status == 200, body


async def _cancel(stack: Stack, ticket: dict[str, Any], session: str) -> None:
    status, body = await stack.post(
        "/mp/v1/cancel", {"ticket": ticket["ticket"], "session": session}
    )
    assert status == 200, body


# --- the happy path and what the site receives ------------------------------------------


async def test_a_login_reaches_the_site_with_code_state_and_iss(
    stack: Stack, chromium: Browser, site: Site
) -> None:
    page = await site.page(chromium, locale="zh-CN")
    ticket = await _open(page, login_url(stack))
    assert await page.title() == "登录 MiniLogin Demo Shop · 微信扫码登录"
    assert await page.text_content("#status") == "请使用微信扫描二维码"
    countdown = await page.text_content("#countdown")
    assert countdown is not None
    assert re.fullmatch(r"二维码将在 [12]:\d\d 后过期", countdown)
    await _shot(page, "1-pending-zh")
    await assert_accessible(page, "login page, QR shown (zh)")

    session = await _scan(stack, ticket)
    await page.wait_for_function(STATUS_SAYS, arg="扫码成功")
    await _shot(page, "2-scanned-zh")
    await assert_accessible(page, "login page, scanned (zh)")
    await _confirm(stack, ticket, session)

    answer = await site.received(page)
    assert set(answer) == {"code", "state", "iss"}
    assert answer["state"] == "st-42"
    assert answer["iss"] == stack.public
    stored = await stack.tickets.get(ticket["ticket"])
    assert stored is not None
    assert stored.scope == "openid profile"


async def test_the_language_switch_changes_every_text_and_the_title(
    stack: Stack, chromium: Browser
) -> None:
    page = await (await chromium.new_context(locale="zh-CN")).new_page()
    await _open(page, login_url(stack))
    await page.click("#lang")
    assert await page.get_attribute("html", "lang") == "en"
    assert await page.title() == "Log in to MiniLogin Demo Shop · Log in with WeChat"
    assert await page.text_content("#status") == "Scan the QR code with WeChat"
    assert await page.text_content("#lang") == "中文"
    assert (await page.text_content("#countdown") or "").startswith("The code expires in ")
    await _shot(page, "1-pending-en")
    await assert_accessible(page, "login page, QR shown (en)")
    await page.click("#lang")
    assert await page.get_attribute("html", "lang") == "zh-CN"
    assert await page.text_content("#hint") == "请使用微信扫一扫登录"


async def test_ui_locales_picks_the_language(stack: Stack, chromium: Browser) -> None:
    page = await (await chromium.new_context(locale="zh-CN")).new_page()
    await _open(page, login_url(stack, ui_locales="en"))
    assert await page.text_content("#status") == "Scan the QR code with WeChat"


# --- every error code reaching the site ---------------------------------------------------

SERVER_REFUSALS = [
    ({"code_challenge": None}, "invalid_request"),
    ({"response_type": "token"}, "unsupported_response_type"),
    ({"scope": "profile"}, "invalid_scope"),
    ({"prompt": "none"}, "login_required"),
]


@pytest.mark.parametrize(("overrides", "error"), SERVER_REFUSALS, ids=REFUSAL_IDS)
async def test_a_refused_request_reaches_the_site_by_redirect(
    stack: Stack, chromium: Browser, site: Site, overrides: dict[str, str | None], error: str
) -> None:
    page = await site.page(chromium)
    await page.goto(login_url(stack, **overrides))
    answer = await site.received(page)
    assert answer["error"] == error
    assert answer["state"] == "st-42"
    assert answer["iss"] == stack.public


@pytest.mark.parametrize(("overrides", "error"), SERVER_REFUSALS, ids=REFUSAL_IDS)
async def test_a_refused_request_reaches_the_opener_by_web_message(
    stack: Stack, chromium: Browser, site: Site, overrides: dict[str, str | None], error: str
) -> None:
    url = login_url(stack, response_mode="web_message", **overrides)
    opener, _, _ = await _popup(chromium, site, url, ticket=False)
    message = await opener.wait_for_message()
    assert message["origin"] == stack.public
    assert message["data"]["type"] == "authorization_response"
    response = message["data"]["response"]
    assert response["error"] == error
    assert response["state"] == "st-42"
    assert response["iss"] == stack.public
    await opener.page.wait_for_function("() => window.popup.closed")


async def test_a_cancel_on_the_phone_reaches_the_site_as_access_denied(
    stack: Stack, chromium: Browser, site: Site
) -> None:
    page = await site.page(chromium, locale="en-US")
    ticket = await _open(page, login_url(stack))
    await _cancel(stack, ticket, await _scan(stack, ticket))
    await page.wait_for_selector("#overlay:not([hidden])")
    assert "cancelled on the phone" in (await page.text_content("#overlay-text") or "")
    # The one thing to do next has the focus: the way back to the site.
    assert await page.evaluate("document.activeElement.id") == "primary"
    await _shot(page, "3-cancelled-en")
    answer = await site.received(page)
    assert answer == {
        "error": "access_denied",
        "error_description": answer["error_description"],
        "state": "st-42",
        "iss": stack.public,
    }


async def test_a_cancel_reaches_the_opener_and_closes_the_popup(
    stack: Stack, chromium: Browser, site: Site
) -> None:
    opener, _, ticket = await _popup(chromium, site, login_url(stack, response_mode="web_message"))
    assert ticket is not None
    await _cancel(stack, ticket, await _scan(stack, ticket))
    message = await opener.wait_for_message()
    assert message["origin"] == stack.public
    assert message["data"]["response"]["error"] == "access_denied"
    assert message["data"]["response"]["state"] == "st-42"
    await opener.page.wait_for_function("() => window.popup.closed")


async def test_a_login_reaches_the_opener_as_code_state_and_iss(
    stack: Stack, chromium: Browser, site: Site
) -> None:
    opener, _, ticket = await _popup(chromium, site, login_url(stack, response_mode="web_message"))
    assert ticket is not None
    await _confirm(stack, ticket, await _scan(stack, ticket))
    message = await opener.wait_for_message()
    assert message["origin"] == stack.public
    response = message["data"]["response"]
    assert set(response) == {"code", "state", "iss"}
    assert (response["state"], response["iss"]) == ("st-42", stack.public)
    await opener.page.wait_for_function("() => window.popup.closed")
    assert site.arrivals == [stack.redirect_uri]  # only the opener's own load: no redirect


async def test_a_login_only_refusal_reaches_the_site_as_access_denied(
    stack: Stack, chromium: Browser, site: Site
) -> None:
    await _admin(stack, "members-only", login_mode="login_only")
    page = await site.page(chromium, locale="zh-CN")
    ticket = await _open(page, login_url(stack, connection="members-only"))
    await _confirm(stack, ticket, await _scan(stack, ticket, 3))
    await page.wait_for_selector("#overlay:not([hidden])")
    assert "只允许已有账号登录" in (await page.text_content("#overlay-text") or "")
    await _shot(page, "4-refused-login-only-zh")
    await assert_accessible(page, "login page, refused (login only)")
    answer = await site.received(page)
    assert answer["error"] == "access_denied"
    assert answer["state"] == "st-42"


async def _admin(stack: Stack, cid: str, **fields: Any) -> None:
    from shared.settings import DEV_ADMIN_TOKEN

    status, body = await stack.post(
        "/admin/v1/connections",
        {"id": cid, "display_name": f"Site {cid}", "apps": ["demo"], **fields},
        headers={"Authorization": f"Bearer {DEV_ADMIN_TOKEN}"},
    )
    assert status == 201, body


async def test_an_outage_is_retried_as_retry_after_says_then_reaches_the_site(
    stack: Stack, chromium: Browser, site: Site
) -> None:
    context = await chromium.new_context(locale="en-US")
    await site.serve(context)
    tries: list[str] = []

    async def down(route: Route) -> None:
        tries.append(route.request.method)
        await route.fulfill(
            status=503,
            headers={"Retry-After": "1", "Content-Type": "application/json"},
            body=json.dumps({"error": {"code": "temporarily_unavailable", "message": "down"}}),
        )

    await context.route(TICKETS, down)
    page = await context.new_page()
    await page.goto(login_url(stack))
    await page.wait_for_function(STATUS_SAYS, arg="Trying again")
    await _shot(page, "5-retrying-en")
    await assert_accessible(page, "login page, retrying an outage")
    answer = await site.received(page)
    assert answer["error"] == "temporarily_unavailable"
    assert answer["state"] == "st-42"
    assert tries == ["POST"] * 4


async def test_an_outage_that_ends_while_retrying_shows_the_code(
    stack: Stack, chromium: Browser
) -> None:
    context = await chromium.new_context()
    answered = 0

    async def once_down(route: Route) -> None:
        nonlocal answered
        answered += 1
        if answered == 1:
            await route.fulfill(status=503, headers={"Retry-After": "1"}, body="{}")
        else:
            await route.continue_()

    await context.route(TICKETS, once_down)
    page = await context.new_page()
    await page.goto(login_url(stack))
    await page.wait_for_selector("#qr:not([hidden])")
    assert answered == 2


# --- expiry --------------------------------------------------------------------------------


async def test_an_expired_code_is_replaced_and_the_new_one_logs_in(
    fake_clock_stack: Stack, chromium: Browser
) -> None:
    stack = fake_clock_stack
    site = Site(stack)
    page = await site.page(chromium, locale="en-US")
    first = await _open(page, login_url(stack))
    stack.clock.advance(first["expires_in"] + 1)  # type: ignore[attr-defined]  # FakeClock
    await page.wait_for_selector("#overlay:not([hidden])")
    assert await page.text_content("#status") == "This QR code has expired. Get a new one to log in"
    assert await page.evaluate("document.activeElement.id") == "primary"
    assert await page.text_content("#primary") == "Get a new code"
    await _shot(page, "6-expired-en")
    await assert_accessible(page, "login page, code expired")

    async with page.expect_response(
        lambda r: bool(TICKETS.search(r.url)) and r.status == 201
    ) as again:
        await page.click("#primary")
    second = await (await again.value).json()
    assert second["ticket"] != first["ticket"]
    await page.wait_for_selector("#overlay", state="hidden")
    await _confirm(stack, second, await _scan(stack, second))
    answer = await site.received(page)
    assert set(answer) == {"code", "state", "iss"}


async def test_going_back_from_an_expired_code_tells_the_site_access_denied(
    fake_clock_stack: Stack, chromium: Browser
) -> None:
    stack = fake_clock_stack
    site = Site(stack)
    page = await site.page(chromium, locale="zh-CN")
    ticket = await _open(page, login_url(stack))
    stack.clock.advance(ticket["expires_in"] + 1)  # type: ignore[attr-defined]  # FakeClock
    await page.wait_for_selector("#secondary:not([hidden])")
    await _shot(page, "6-expired-zh")
    await page.click("#secondary")
    answer = await site.received(page)
    assert answer["error"] == "access_denied"
    assert answer["state"] == "st-42"


# --- the WebSocket dropped or blocked --------------------------------------------------------


async def test_a_dropped_websocket_comes_back_and_the_result_still_arrives(
    stack: Stack, chromium: Browser, site: Site
) -> None:
    page = await site.page(chromium, locale="en-US")
    sockets: list[WebSocketRoute] = []

    def through(ws: WebSocketRoute) -> None:
        ws.connect_to_server()
        sockets.append(ws)

    await page.route_web_socket(re.compile(r"/ws/tickets/"), through)
    ticket = await _open(page, login_url(stack))
    await page.wait_for_function("() => document.getElementById('link-state').hidden")
    assert len(sockets) == 1
    session = await _scan(stack, ticket)
    await page.wait_for_function(STATUS_SAYS, arg="Scanned")

    await sockets[0].close(code=1011, reason="dropped")  # the network hiccups
    await page.wait_for_selector("#link-state:not([hidden])")
    await _shot(page, "7-reconnecting-en")
    await assert_accessible(page, "login page, reconnecting")
    await page.wait_for_function("() => document.getElementById('link-state').hidden")  # back
    assert len(sockets) == 2
    await _confirm(stack, ticket, session)
    answer = await site.received(page)
    assert set(answer) == {"code", "state", "iss"}


async def test_with_websockets_blocked_the_page_polls_and_the_login_completes(
    stack: Stack, chromium: Browser, site: Site
) -> None:
    page = await site.page(chromium, locale="zh-CN")
    polls: list[str] = []

    def count(request: Request) -> None:
        if TICKET_STATUS.search(request.url):
            polls.append(request.url)

    page.on("request", count)

    async def blocked(ws: WebSocketRoute) -> None:
        await ws.close(code=1006, reason="blocked by a proxy")  # never reaches the server

    await page.route_web_socket(re.compile(r"/ws/tickets/"), blocked)
    ticket = await _open(page, login_url(stack))
    await page.wait_for_selector("#link-state:not([hidden])")
    await _shot(page, "8-polling-zh")
    session = await _scan(stack, ticket)
    await page.wait_for_function(STATUS_SAYS, arg="扫码成功")
    await _confirm(stack, ticket, session)
    answer = await site.received(page)
    assert set(answer) == {"code", "state", "iss"}
    assert len(polls) >= 2


# --- a phone browser: the same-device path ---------------------------------------------------


async def test_a_phone_sized_browser_is_offered_to_open_wechat(
    stack: Stack, chromium: Browser
) -> None:
    context = await chromium.new_context(
        viewport=PHONE, locale="en-US", is_mobile=True, has_touch=True
    )
    page = await context.new_page()

    async def link(route: Route) -> None:
        await route.fulfill(
            status=200,
            content_type="application/json",
            body=json.dumps(
                {"url": "weixin://dl/business/?t=abc", "kind": "scheme", "expires_at": 0}
            ),
        )

    await context.route(re.compile(r"/wechat-link$"), link)
    await _open(page, login_url(stack))
    assert await page.is_visible("#open-wechat")
    assert await page.text_content("#open-wechat") == "Open in WeChat"
    await _shot(page, "9-phone-open-in-wechat-en")
    await assert_accessible(page, "login page on a phone")
    await page.click("#open-wechat")
    await page.wait_for_selector("#wechat-link:not([hidden])")
    assert await page.get_attribute("#wechat-link", "href") == WECHAT_LINK


async def test_a_phone_told_wechat_cannot_be_opened_reads_what_to_do(
    stack: Stack, chromium: Browser
) -> None:
    context = await chromium.new_context(
        viewport=PHONE, locale="zh-CN", is_mobile=True, has_touch=True
    )
    page = await context.new_page()

    async def refused(route: Route) -> None:
        await route.fulfill(status=503, content_type="application/json", body="{}")

    await context.route(re.compile(r"/wechat-link$"), refused)
    await _open(page, login_url(stack))
    await page.click("#open-wechat")
    await page.wait_for_function(
        "() => document.getElementById('same-device-note').textContent.includes('在电脑上打开本页')"
    )
    await _shot(page, "9-phone-no-link-zh")
    await assert_accessible(page, "login page on a phone, no link")


async def test_a_computer_sized_browser_is_not_offered_the_phone_path(
    stack: Stack, chromium: Browser
) -> None:
    page = await (await chromium.new_context()).new_page()
    await _open(page, login_url(stack))
    assert await page.is_hidden("#same-device")


async def test_a_narrow_popup_on_a_computer_is_not_offered_the_phone_path(
    stack: Stack, chromium: Browser
) -> None:
    # A site's popup is often phone-narrow; its screen can still be scanned.
    page = await (await chromium.new_context(viewport=PHONE)).new_page()
    await _open(page, login_url(stack))
    await page.wait_for_selector("#qr:not([hidden])")
    assert await page.is_hidden("#same-device")


# --- our own pages ---------------------------------------------------------------------------


async def test_a_bad_client_gets_our_own_page_in_both_languages(
    stack: Stack, chromium: Browser
) -> None:
    page = await (await chromium.new_context()).new_page()
    icons: list[int] = []
    page.on("response", lambda r: icons.append(r.status) if "favicon" in r.url else None)
    await page.goto(login_url(stack, client_id="not-a-client"))
    assert await page.text_content("#problem-zh") == "这个登录链接无效"
    assert await page.text_content("#problem-en") == "This login link does not work"
    await _shot(page, "0-bad-client")
    await assert_accessible(page, "our error page")
    await page.goto(login_url(stack, redirect_uri="https://attacker.example/cb"))
    assert page.url.startswith(stack.public)
    await assert_accessible(page, "our error page, bad redirect_uri")
    assert 404 not in icons
