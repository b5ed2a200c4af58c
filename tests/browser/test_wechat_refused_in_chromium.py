"""WeChat refuses the phone-number code the phone's confirm hands over, in real Chromium over
the whole stack: the waiting login page says WeChat refused the login (zh and en), never that
it was cancelled on the phone, and the site gets `access_denied` saying WeChat refused. Each
screen photographed, axe-core finds nothing."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from axe import assert_accessible
from browserkit import screenshot_dir
from minilogin_testkit import PHONE_NUMBER_API, Stack, pkce
from playwright.async_api import Browser, Page
from test_login_page_in_chromium import Site, _open, _scan

from devstack.seed import DEMO_CLIENT_ID

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("stack_kind", ["embedded"])]


@pytest.fixture
def site(stack: Stack) -> Site:
    return Site(stack)


async def _shot(page: Page, name: str) -> None:
    await page.screenshot(path=str(screenshot_dir() / f"wechat-refused-{name}.png"))


def _login_url(stack: Stack) -> str:
    _, challenge = pkce()
    params = {
        "client_id": DEMO_CLIENT_ID,
        "redirect_uri": stack.redirect_uri,
        "response_type": "code",
        "scope": "openid profile phone",
        "state": "st-42",
        "nonce": "n-42",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    return stack.url("/login?" + urlencode(params))


@pytest.mark.parametrize(
    ("locale", "said", "not_said"),
    [
        ("zh-CN", "微信拒绝了这次登录请求，没有登录任何账号", "取消"),
        ("en-US", "WeChat refused this login request; nobody was logged in", "cancelled"),
    ],
)
async def test_wechat_refusing_the_phone_number_is_shown_on_the_pc_and_told_to_the_site(
    stack: Stack, chromium: Browser, site: Site, locale: str, said: str, not_said: str
) -> None:
    page = await site.page(chromium, locale=locale)
    ticket = await _open(page, _login_url(stack))
    user = next(u for u in await stack.users() if u["phone"])
    session = await _scan(stack, ticket, (await stack.users()).index(user))
    # WeChat refuses the phone-number code exchange: the user is blocked for their safety.
    await stack.wechat_fault(PHONE_NUMBER_API, 40226, count=1)

    status, answer = await stack.post(
        "/mp/v1/confirm",
        {
            "ticket": ticket["ticket"],
            "session": session,
            "phone_code": await stack.phone_code(user["openid"]),
        },
    )
    assert status == 200, answer
    assert (answer["outcome"], answer["reason"]) == ("failed", "wechat_refused")

    await page.wait_for_selector("#overlay:not([hidden])")
    text = await page.text_content("#overlay-text") or ""
    assert said in text
    assert not_said not in text
    await _shot(page, locale[:2])
    await assert_accessible(page, f"login page, WeChat refused the phone number ({locale})")
    answered = await site.received(page)
    assert answered["error"] == "access_denied"
    assert answered["error_description"] == "WeChat refused a request made for this login."
    assert answered["state"] == "st-42"
