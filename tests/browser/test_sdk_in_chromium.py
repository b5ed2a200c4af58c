"""The browser SDK (/sdk/minilogin.js) on the demo shop, in real Chromium over the whole
system: the QR in the shop's own page and the popup each end in a code the shop exchanges
for tokens; a cancel, an expiry (with a new code on its own) and a forged message each do
what a person expects; a phone's browser is offered WeChat directly. axe-core finds nothing
on the shop or the phone simulator in any of these states, and each state is photographed."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from aiohttp import web
from axe import assert_accessible
from browserkit import PHONE, chromium, screenshot_dir
from minilogin_testkit import Stack, free_port, wait_for_status
from playwright.async_api import Browser, Page

from shared.clock import FakeClock

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("stack_kind", ["embedded"])]


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as b:
        yield b


@pytest.fixture
def shots() -> Path:
    return screenshot_dir()


async def _events(page: Page) -> list[str]:
    items: list[str] = await page.eval_on_selector_all(
        "#events li", "els => els.map(e => e.textContent)"
    )
    return items


async def _wait_event(page: Page, prefix: str, count: int = 1) -> None:
    await page.wait_for_function(
        """([prefix, count]) => [...document.querySelectorAll('#events li')]
             .filter((li) => li.textContent.startsWith(prefix)).length >= count""",
        arg=[prefix, count],
    )


async def _embedded(browser: Browser, stack: Stack, **context: Any) -> Page:
    """The shop with the SDK's QR code in its page, ready to scan."""
    page = await (await browser.new_context(locale="en-US", **context)).new_page()
    await page.goto(f"{stack.public}/demo/")
    await page.click("#login-embedded")
    await page.wait_for_function(
        "() => { const i = document.querySelector('.minilogin-qr');"
        " return i && !i.hidden && i.naturalWidth > 0; }"
    )
    await _wait_event(page, "onReady")
    return page


async def _scan(browser: Browser, pc: Page, openid: str, scene: str = "1011") -> Page:
    """The phone simulator scans the code `pc` shows (its development link)."""
    url = await pc.get_attribute("#phone-link", "href")
    assert url
    phone = await (await browser.new_context(viewport={"width": 400, "height": 760})).new_page()
    await phone.goto(url if url.startswith("http") else pc.url.split("/demo/")[0] + url)
    await phone.wait_for_selector(f"#user option[value='{openid}']", state="attached")
    await phone.select_option("#user", openid)
    await phone.select_option("#scene", scene)
    await phone.click("#scan")
    await phone.wait_for_selector("#step-confirm:not([hidden])")
    return phone


async def test_the_qr_in_the_shops_page_logs_in_and_the_code_is_exchanged(
    stack: Stack, browser: Browser, shots: Path
) -> None:
    user = (await stack.users())[0]
    pc = await (await browser.new_context(locale="en-US")).new_page()
    await pc.goto(f"{stack.public}/demo/")
    await assert_accessible(pc, "demo shop, logged out")
    await pc.click("#login-embedded")
    await pc.wait_for_selector(".minilogin-qr:not([hidden])")
    await pc.wait_for_function("() => document.querySelector('.minilogin-qr').naturalWidth > 0")
    assert await pc.text_content(".minilogin-status") == "Scan the QR code with WeChat"
    assert await pc.is_hidden(".minilogin-wechat")  # a computer: nothing to open
    await _wait_event(pc, "onReady")
    await pc.screenshot(path=str(shots / "sdk-1-embedded-qr.png"), full_page=True)
    await assert_accessible(pc, "demo shop, SDK showing its QR code")

    phone = await _scan(browser, pc, user["openid"])
    await assert_accessible(phone, "phone simulator, asking to confirm")
    await pc.wait_for_selector(".minilogin-box[data-status='scanned']")
    assert await pc.text_content(".minilogin-status") == "Scanned. Confirm on your phone"
    await _wait_event(pc, "onScanned")
    await pc.screenshot(path=str(shots / "sdk-2-embedded-scanned.png"), full_page=True)
    await assert_accessible(pc, "demo shop, SDK scanned")

    await phone.click("#confirm")
    # onSuccess hands the code to /demo/callback, which exchanges it (PKCE) and checks the
    # ID token against the JWKS before it shows who logged in.
    await pc.wait_for_url(f"{stack.public}/demo/")
    assert await pc.text_content("#who") == user["nickname"]
    await pc.screenshot(path=str(shots / "sdk-3-logged-in.png"), full_page=True)
    await assert_accessible(pc, "demo shop, logged in")
    await assert_accessible(phone, "phone simulator, confirmed")


async def test_the_popup_hands_its_code_to_the_shop_by_web_message(
    stack: Stack, browser: Browser, shots: Path
) -> None:
    user = (await stack.users())[1]
    context = await browser.new_context(locale="en-US")
    site = await context.new_page()
    await site.goto(f"{stack.public}/demo/")
    async with context.expect_page() as popup_info:
        await site.click("#login-popup")
    popup = await popup_info.value
    await popup.wait_for_selector("#qr:not([hidden])")
    assert parse_qs(urlsplit(popup.url).query)["response_mode"] == ["web_message"]
    await popup.screenshot(path=str(shots / "sdk-4-popup.png"))
    phone = await _scan(browser, popup, user["openid"])
    await phone.click("#confirm")
    await site.wait_for_url(f"{stack.public}/demo/")
    assert await site.text_content("#who") == user["nickname"]
    assert popup.is_closed()


async def test_a_cancel_on_the_phone_reaches_on_cancelled(
    stack: Stack, browser: Browser, shots: Path
) -> None:
    user = (await stack.users())[0]
    pc = await _embedded(browser, stack)
    phone = await _scan(browser, pc, user["openid"])
    await phone.click("#cancel")
    await pc.wait_for_selector(".minilogin-box[data-status='cancelled']")
    assert await pc.text_content(".minilogin-status") == "You cancelled on your phone"
    assert await pc.is_visible(".minilogin-refresh")
    await _wait_event(pc, "onCancelled")
    assert 'onCancelled {"reason":"cancelled_on_phone"}' in await _events(pc)
    await pc.screenshot(path=str(shots / "sdk-5-cancelled.png"), full_page=True)
    await assert_accessible(pc, "demo shop, SDK cancelled")
    await assert_accessible(phone, "phone simulator, cancelled")

    await pc.click(".minilogin-refresh")  # a new code on request
    await _wait_event(pc, "onReady", 2)
    await pc.wait_for_selector(".minilogin-box[data-status='pending']")


async def test_an_expired_code_is_replaced_on_its_own(
    fake_clock_stack: Stack, browser: Browser, shots: Path
) -> None:
    stack = fake_clock_stack
    assert isinstance(stack.clock, FakeClock)
    pc = await _embedded(browser, stack)
    first = (await _events(pc))[0]
    ticket = json.loads(first.removeprefix("onReady "))["ticket"]
    expires_at = (await stack.tickets.require(ticket)).expires_at

    stack.clock.advance(expires_at - stack.clock.now() + 1)

    await _wait_event(pc, "onExpired")
    await _wait_event(pc, "onReady", 2)
    events = await _events(pc)
    assert 'onExpired {"refreshing":true}' in events
    second = json.loads(events[-1].removeprefix("onReady "))["ticket"]
    assert second != ticket
    await pc.wait_for_selector(".minilogin-box[data-status='pending']")
    assert await pc.text_content(".minilogin-status") == "Scan the QR code with WeChat"
    await pc.screenshot(path=str(shots / "sdk-6-refreshed-after-expiry.png"), full_page=True)
    await assert_accessible(pc, "demo shop, SDK after an automatic refresh")


async def test_a_message_from_any_other_window_or_origin_is_ignored(
    stack: Stack, browser: Browser
) -> None:
    user = (await stack.users())[2]
    context = await browser.new_context(locale="en-US")
    site = await context.new_page()
    callbacks: list[str] = []
    site.on("request", lambda r: callbacks.append(r.url) if "/demo/callback" in r.url else None)
    await site.goto(f"{stack.public}/demo/")
    async with context.expect_page() as popup_info:
        await site.click("#login-popup")
    popup = await popup_info.value
    await popup.wait_for_selector("#qr:not([hidden])")
    state = parse_qs(urlsplit(popup.url).query)["state"][0]
    forged = {
        "type": "authorization_response",
        "response": {"code": "forged", "state": state, "iss": stack.public},
    }
    # Another origin (localhost is not 127.0.0.1), and the right origin from a window that
    # is not the popup: both answer the shop with a well-formed message of the right state.
    port = urlsplit(stack.public).port
    for other in (f"http://localhost:{port}/phone/", f"{stack.public}/phone/"):
        async with context.expect_page() as opened:
            await site.evaluate("(url) => { window.open(url); }", other)
        sender = await opened.value
        await sender.wait_for_load_state()
        await sender.evaluate("(msg) => window.opener.postMessage(msg, '*')", forged)
        await sender.close()

    phone = await _scan(browser, popup, user["openid"])
    await phone.click("#confirm")
    await site.wait_for_url(f"{stack.public}/demo/")
    assert await site.text_content("#who") == user["nickname"]
    # The one code the shop took is the popup's, never the forged one.
    codes = [parse_qs(urlsplit(u).query)["code"][0] for u in callbacks]
    assert len(codes) == 1
    assert codes[0] != "forged"


async def test_a_phones_browser_is_offered_wechat_and_gets_a_scheme(
    stack: Stack, browser: Browser, shots: Path
) -> None:
    pc = await _embedded(browser, stack, **PHONE)
    button = pc.locator(".minilogin-wechat")
    await button.wait_for(state="visible")
    assert await button.text_content() == "Open in WeChat"
    await pc.screenshot(path=str(shots / "sdk-7-phone-open-in-wechat.png"), full_page=True)
    await assert_accessible(pc, "demo shop on a phone, same-device button")
    ticket = json.loads((await _events(pc))[0].removeprefix("onReady "))["ticket"]

    async with pc.expect_response(lambda r: r.url.endswith("/wechat-link")) as answer:
        await button.click()
    link = await (await answer.value).json()
    assert link["kind"] == "scheme"
    assert link["url"].startswith("weixin://dl/business/?t=")
    # What WeChat opens for that link: the mini program's login page with this ticket.
    async with stack.http.post(
        f"{stack.sandbox_url}/__sandbox/open-link", json={"url": link["url"]}
    ) as r:
        opened = await r.json()
    assert (opened["page"], opened["query"]) == ("pages/login/login", f"scene={ticket}")


async def test_the_phone_simulators_warning_is_accessible(
    stack: Stack, browser: Browser, shots: Path
) -> None:
    user = (await stack.users())[0]
    pc = await _embedded(browser, stack)
    phone = await (await browser.new_context(viewport={"width": 400, "height": 760})).new_page()
    await phone.goto(f"{stack.public}/phone/")
    await phone.wait_for_selector(f"#user option[value='{user['openid']}']", state="attached")
    await assert_accessible(phone, "phone simulator, before a scan")
    await phone.fill("#qr", "not a code")
    await phone.click("#scan")
    await phone.wait_for_function("() => document.getElementById('result').textContent !== ''")
    await assert_accessible(phone, "phone simulator, refusing a bad code")
    await phone.close()
    phone = await _scan(browser, pc, user["openid"], scene="1013")  # from the album: warned
    await phone.wait_for_selector("#risk:not([hidden])")
    await phone.screenshot(path=str(shots / "sdk-8-phone-simulator-warning.png"), full_page=True)
    await assert_accessible(phone, "phone simulator, album picture warning")


SHOP_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Shop</title></head>
<body><main><h1>Another origin of the same site</h1><div id="login"></div><ol id="events"></ol>
</main><script src="{issuer}/sdk/minilogin.js"></script><script>
const log = (t) => {{ const li = document.createElement("li"); li.textContent = t;
  document.getElementById("events").appendChild(li); }};
MiniLogin({{ issuer: "{issuer}", clientId: "demo", redirectUri: "{issuer}/demo/callback",
  container: "#login", lang: "en", onReady: (i) => log("onReady " + JSON.stringify(i)),
  onError: (e) => log("onError " + JSON.stringify(e)),
  onSuccess: (r) => log("onSuccess " + JSON.stringify(r)) }}).start();
</script></body></html>"""


@pytest.fixture
async def shop_origin(stack: Stack) -> AsyncIterator[str]:
    """A site's page on another port of the same host: another origin, the same site."""
    app = web.Application()

    async def page(_: web.Request) -> web.Response:
        return web.Response(text=SHOP_PAGE.format(issuer=stack.public), content_type="text/html")

    app.router.add_get("/", page)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


async def test_a_registered_page_of_another_origin_embeds_the_qr_and_gets_the_code(
    stack: Stack, browser: Browser, shop_origin: str
) -> None:
    await stack.db.apps.update_one({"client_id": "demo"}, {"$push": {"web_origins": shop_origin}})
    user = (await stack.users())[0]
    page = await (await browser.new_context(locale="en-US")).new_page()
    await page.goto(shop_origin)
    await _wait_event(page, "onReady")
    ticket = json.loads((await _events(page))[0].removeprefix("onReady "))["ticket"]
    # The ticket API answered this origin (CORS, credentials) and bound the ticket to this
    # browser; the notifier let it open the ticket's socket. The phone logs in:
    _, scan = await stack.scan(ticket, user["openid"])
    await stack.post("/mp/v1/confirm", {"ticket": ticket, "session": scan["session"]})
    await _wait_event(page, "onSuccess")
    result = json.loads((await _events(page))[-1].removeprefix("onSuccess "))
    status, tokens = await stack.exchange(result["code"], result["codeVerifier"])
    assert status == 200, tokens
    claims = await stack.verify_id_token(tokens["id_token"])  # signature, issuer, audience
    assert claims["sub"]


async def test_the_shops_error_page_is_accessible(stack: Stack, browser: Browser) -> None:
    page = await (await browser.new_context(locale="en-US")).new_page()
    await page.goto(f"{stack.public}/demo/callback?code=stale&state=unknown")
    assert "state mismatch" in (await page.text_content("#error") or "")
    await assert_accessible(page, "demo shop, a login that failed")


async def test_a_returning_users_scan_names_their_account(
    stack: Stack, browser: Browser, shots: Path
) -> None:
    user = (await stack.users())[2]
    earlier = stack.browser()  # a login before, which gave the account its name
    ticket, _ = await earlier.ticket()
    async with earlier.socket(ticket["ticket"]) as ws:
        _, scan = await stack.scan(ticket["ticket"], user["openid"])
        await stack.post(
            "/mp/v1/confirm",
            {"ticket": ticket["ticket"], "session": scan["session"], "nickname": user["nickname"]},
        )
        await wait_for_status(ws, "succeeded")
    pc = await _embedded(browser, stack)
    await _scan(browser, pc, user["openid"])
    # The account follows the scan in a second message; onScanned is told again.
    await pc.wait_for_selector(".minilogin-scanner:not([hidden])")
    assert await pc.text_content(".minilogin-name") == f"Scanned by {user['nickname']}"
    await _wait_event(pc, f'onScanned {{"nickname":"{user["nickname"]}"}}')
    await pc.screenshot(path=str(shots / "sdk-9-scanned-by-returning-user.png"), full_page=True)
    await assert_accessible(pc, "demo shop, SDK naming the scanner's account")
