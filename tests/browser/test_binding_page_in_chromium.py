"""The binding page in real Chromium over the whole stack: a login the connection asks to bind
takes the same browser (redirect or popup) to our page, where linking an existing account or
creating one ends with the site's answer for the right account (a verified ID token); a
login-only connection offers no new account; refusals the account service makes are shown on
the PC with a reason a person understands. Both languages, each screen photographed, axe-core
finds nothing."""

from __future__ import annotations

import re
from typing import Any

import pytest
from axe import assert_accessible
from browserkit import screenshot_dir
from minilogin_testkit import (
    ADMIN,
    BINDER_EMAIL,
    BINDER_PASSWORD,
    Stack,
    ask_binding_setup,
    login_url,
    pkce,
)
from playwright.async_api import Browser, Page
from test_login_page_in_chromium import Opener, Site, _confirm, _open, _popup, _scan

from shared.tickets import TicketStatus, lifecycle

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("stack_kind", ["embedded"])]
EMAIL, PASSWORD = BINDER_EMAIL, BINDER_PASSWORD
BINDING_PAGE = re.compile(r"/bind/[0-9A-Za-z]{22}")


@pytest.fixture
def site(stack: Stack) -> Site:
    return Site(stack)


async def _shot(page: Page, name: str) -> None:
    await page.screenshot(path=str(screenshot_dir() / f"binding-{name}.png"))


def _login_url(stack: Stack, challenge: str, **extra: str) -> str:
    return login_url(stack, challenge, **{"connection": "ask-me", **extra})


async def _setup(stack: Stack, **connection: Any) -> str:
    return await ask_binding_setup(stack, "Ask Me Shop", **connection)


async def _to_binding_page(stack: Stack, page: Page, ticket: dict[str, Any]) -> None:
    """The phone scans and confirms; the login page takes this browser to the binding page."""
    await _confirm(stack, ticket, await _scan(stack, ticket, 2))
    await page.wait_for_url(BINDING_PAGE)
    await page.wait_for_selector("#link-box:not([hidden])")


async def _page_on_binding_page(
    stack: Stack, chromium: Browser, site: Site, challenge: str, locale: str
) -> Page:
    """A redirect-mode login through ask-me, in a browser in `locale`, taken to the binding
    page: that page."""
    page = await site.page(chromium, locale=locale)
    ticket = await _open(page, _login_url(stack, challenge))
    await _to_binding_page(stack, page, ticket)
    return page


async def _popup_on_binding_page(
    stack: Stack, chromium: Browser, site: Site, challenge: str
) -> tuple[Opener, Page]:
    """A popup (web_message) login through ask-me taken to the binding page: its opener and
    the popup."""
    url = _login_url(stack, challenge, response_mode="web_message")
    opener, popup, ticket = await _popup(chromium, site, url)
    assert ticket is not None
    await _to_binding_page(stack, popup, ticket)
    return opener, popup


async def _sub(stack: Stack, answer: dict[str, str], verifier: str) -> str:
    status, tokens = await stack.exchange(answer["code"], verifier)
    assert status == 200, tokens
    claims = await stack.verify_id_token(tokens["id_token"])
    return str(claims["sub"])


async def test_linking_an_existing_account_in_redirect_mode(
    stack: Stack, chromium: Browser, site: Site
) -> None:
    user_id = await _setup(stack)
    verifier, challenge = pkce()
    page = await _page_on_binding_page(stack, chromium, site, challenge, "zh-CN")

    assert await page.title() == "关联账号 · 登录 Ask Me Shop"
    assert await page.is_visible("#create-box")
    await _shot(page, "1-choose-zh")
    await assert_accessible(page, "binding page (zh)")
    await page.click("#lang")
    assert await page.text_content("#link-title") == "Link WeChat to your existing account"
    await _shot(page, "1-choose-en")
    await assert_accessible(page, "binding page (en)")

    await page.fill("#login", EMAIL)
    await page.fill("#password", "wrong password")
    await page.click("#link")
    await page.wait_for_function(
        "() => document.getElementById('message').textContent.includes('wrong')"
    )
    await _shot(page, "2-wrong-password-en")
    await assert_accessible(page, "binding page, wrong password (en)")
    await page.click("#lang")
    assert "不正确" in (await page.text_content("#message") or "")
    await _shot(page, "2-wrong-password-zh")

    await page.fill("#password", PASSWORD)
    await page.click("#link")
    answer = await site.received(page)
    assert set(answer) == {"code", "state", "iss"}
    assert (answer["state"], answer["iss"]) == ("st-42", stack.public)
    assert await _sub(stack, answer, verifier) == user_id


async def test_creating_a_new_account_in_popup_mode(
    stack: Stack, chromium: Browser, site: Site
) -> None:
    existing = await _setup(stack)
    verifier, challenge = pkce()
    opener, popup = await _popup_on_binding_page(stack, chromium, site, challenge)

    await popup.click("#create")
    message = await opener.wait_for_message()
    assert message["origin"] == stack.public
    response = message["data"]["response"]
    assert set(response) == {"code", "state", "iss"}
    await opener.page.wait_for_function("() => window.popup.closed")
    sub = await _sub(stack, response, verifier)
    assert sub != existing
    assert (await stack.db.identities.find_one({"user_id": sub})) is not None


async def test_linking_in_popup_mode_and_leaving_tells_the_opener(
    stack: Stack, chromium: Browser, site: Site
) -> None:
    await _setup(stack)
    _, challenge = pkce()
    opener, popup = await _popup_on_binding_page(stack, chromium, site, challenge)

    await popup.click("#back")
    message = await opener.wait_for_message()
    assert message["data"]["response"]["error"] == "access_denied"
    assert message["data"]["response"]["state"] == "st-42"


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
async def test_a_login_only_connection_offers_only_linking(
    stack: Stack, chromium: Browser, site: Site, locale: str
) -> None:
    await _setup(stack, login_mode="login_only")
    _, challenge = pkce()
    page = await _page_on_binding_page(stack, chromium, site, challenge, locale)

    assert await page.is_hidden("#create-box")
    intro = await page.text_content("#intro") or ""
    assert ("only existing accounts" in intro) or ("只允许已有账号" in intro)
    await _shot(page, f"3-login-only-{locale[:2]}")
    await assert_accessible(page, f"binding page, login only ({locale})")


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
async def test_another_browser_reads_why_it_cannot_bind(
    stack: Stack, chromium: Browser, site: Site, locale: str
) -> None:
    await _setup(stack)
    _, challenge = pkce()
    page = await _page_on_binding_page(stack, chromium, site, challenge, "en-US")

    stranger = await (await chromium.new_context(locale=locale)).new_page()
    await stranger.goto(page.url)
    text = await stranger.text_content("#message") or ""
    assert ("only in the browser that started" in text) or ("开始登录的浏览器" in text)
    assert await stranger.is_hidden("#link-box")
    await _shot(stranger, f"4-other-browser-{locale[:2]}")
    await assert_accessible(stranger, f"binding page, another browser ({locale})")


async def _disabled_user(stack: Stack) -> None:
    """WeChat user 0 has an account (from a first login), which an operator disabled."""
    login = await stack.log_in((await stack.users())[0]["openid"])
    ticket = await stack.tickets.require(login.ticket)
    status, body = await stack.post(f"/admin/v1/users/{ticket.user_id}/disable", {}, headers=ADMIN)
    assert status == 200, body


@pytest.mark.parametrize(
    ("locale", "said"), [("en-US", "account is disabled"), ("zh-CN", "账号已被停用")]
)
async def test_a_disabled_account_is_refused_with_its_reason_on_the_pc(
    stack: Stack, chromium: Browser, site: Site, locale: str, said: str
) -> None:
    await _disabled_user(stack)
    page = await site.page(chromium, locale=locale)
    _, challenge = pkce()
    ticket = await _open(page, _login_url(stack, challenge, connection="wechat-demo"))
    await _confirm(stack, ticket, await _scan(stack, ticket, 0))
    await page.wait_for_selector("#overlay:not([hidden])")
    assert said in (await page.text_content("#overlay-text") or "")
    await _shot(page, f"5-refused-disabled-{locale[:2]}")
    await assert_accessible(page, f"login page, refused (disabled, {locale})")
    answer = await site.received(page)
    assert answer["error"] == "access_denied"
    assert answer["error_description"] == "The user's account is disabled."


async def test_a_login_only_refusal_reaches_the_opener_with_its_reason(
    stack: Stack, chromium: Browser, site: Site
) -> None:
    await stack.add_connection(
        id="members-only", display_name="Members", apps=["demo"], login_mode="login_only"
    )
    _, challenge = pkce()
    url = _login_url(stack, challenge, connection="members-only", response_mode="web_message")
    opener, popup, ticket = await _popup(chromium, site, url)
    assert ticket is not None
    await _confirm(stack, ticket, await _scan(stack, ticket, 3))
    await popup.wait_for_selector("#overlay:not([hidden])")
    assert "only lets existing accounts" in (await popup.text_content("#overlay-text") or "")
    await _shot(popup, "6-refused-login-only-popup-en")
    await assert_accessible(popup, "login popup, refused (login only, en)")
    message = await opener.wait_for_message()
    response = message["data"]["response"]
    assert response["error"] == "access_denied"
    assert "only existing accounts" in response["error_description"]


@pytest.mark.parametrize(
    ("reason", "locale", "said", "error"),
    [
        ("wechat_code_blocked", "en-US", "WeChat refused this login", "access_denied"),
        ("wechat_code_blocked", "zh-CN", "微信拒绝了这次登录", "access_denied"),
        ("resolve_crashed", "en-US", "login service had a problem", "server_error"),
        ("resolve_crashed", "zh-CN", "登录服务出了问题", "server_error"),
    ],
)
async def test_a_failure_is_shown_on_the_pc_with_a_reason_a_person_understands(
    stack: Stack,
    chromium: Browser,
    site: Site,
    reason: str,
    locale: str,
    said: str,
    error: str,
) -> None:
    page = await site.page(chromium, locale=locale)
    _, challenge = pkce()
    ticket = await _open(page, _login_url(stack, challenge, connection="wechat-demo"))
    await _scan(stack, ticket, 1)
    scanner = (await stack.users())[1]["openid"]
    # Confirmed in the store only (the account service never hears of it), then failed for
    # `reason` as the account service would fail it: the browser is told through the outbox.
    await stack.tickets.transition(ticket["ticket"], TicketStatus.CONFIRMED, scanner=scanner)
    await lifecycle.fail(stack.tickets, ticket["ticket"], reason=reason)

    await page.wait_for_selector("#overlay:not([hidden])")
    assert said in (await page.text_content("#overlay-text") or "")
    await _shot(page, f"7-refused-{reason.split('_')[0]}-{locale[:2]}")
    await assert_accessible(page, f"login page, failed {reason} ({locale})")
    answer = await site.received(page)
    assert answer["error"] == error
