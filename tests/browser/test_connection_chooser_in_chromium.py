"""The connection chooser in real Chromium: an app with several connections and a request that
names none shows one button per connection (logo and display name), in Chinese and English,
with no axe-core violation; the button chosen makes the login page show that connection's code.
Each screen is photographed."""

from __future__ import annotations

import re
from typing import Any

import pytest
from axe import assert_accessible
from browserkit import screenshot_dir
from minilogin_testkit import Stack, login_url, png_data_url
from playwright.async_api import Browser, Page

from devstack.seed import DEMO_CLIENT_ID, DEMO_CONNECTION

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("stack_kind", ["embedded"])]
TICKETS = re.compile(r"/api/v1/tickets$")


async def _vip_connection(stack: Stack) -> None:
    body = {
        "id": "shop-vip",
        "display_name": "VIP Lounge",
        "apps": [DEMO_CLIENT_ID],
        "logo": png_data_url((180, 40, 90), 96),
    }
    await stack.add_connection(**body)


def _login_url(stack: Stack) -> str:
    return login_url(stack, state="st-9", nonce=None)


async def _shot(page: Page, name: str) -> None:
    await page.screenshot(path=str(screenshot_dir() / f"chooser-{name}.png"), full_page=True)


@pytest.mark.parametrize(
    ("locale", "title", "site"),
    [
        ("zh-CN", "选择登录方式", "登录 MiniLogin Demo Shop"),
        ("en-US", "Choose how to log in", None),
    ],
)
async def test_the_chooser_shows_a_button_per_connection_and_the_choice_is_used(
    stack: Stack, chromium: Browser, locale: str, title: str, site: str | None
) -> None:
    await _vip_connection(stack)
    context = await chromium.new_context(locale=locale)
    page = await context.new_page()
    await page.goto(_login_url(stack))

    assert await page.text_content("h1") == title
    if site:
        assert await page.text_content("#site") == site
    names = await page.locator(".choice").all_inner_texts()
    assert names == ["VIP Lounge", "MiniLogin Demo Shop"]  # by identifier: shop-vip, wechat-demo
    logo = page.locator('[data-connection="shop-vip"] img')
    assert await logo.evaluate("(img) => img.complete && img.naturalWidth > 0")
    lang = locale[:2]
    await _shot(page, f"1-choices-{lang}")
    await assert_accessible(page, f"connection chooser ({lang})")

    async with page.expect_response(
        lambda r: bool(TICKETS.search(r.url)) and r.status == 201
    ) as created:
        await page.get_by_role("link", name="VIP Lounge").click()
    ticket: dict[str, Any] = await (await created.value).json()
    await page.wait_for_selector("#qr:not([hidden])")

    assert ticket["connection"] == {"id": "shop-vip", "display_name": "VIP Lounge"}
    assert "VIP Lounge" in (await page.text_content("#site") or "")
    assert await page.get_attribute("html", "lang") == ("zh-CN" if lang == "zh" else "en")
    await _shot(page, f"2-chosen-{lang}")
    await assert_accessible(page, f"login page after the choice ({lang})")
    await context.close()


async def test_the_language_switch_keeps_the_choices(stack: Stack, chromium: Browser) -> None:
    await _vip_connection(stack)
    page = await (await chromium.new_context(locale="zh-CN")).new_page()
    await page.goto(_login_url(stack))

    await page.get_by_role("link", name="English").click()

    assert await page.text_content("h1") == "Choose how to log in"
    assert await page.locator(f'[data-connection="{DEMO_CONNECTION}"]').count() == 1
    await assert_accessible(page, "connection chooser after switching language")
