"""A connection's try link in real Chromium: the hosted page shows the connection's code, the
phone confirms, and the browser lands on the connection's callback_url; without one, on our
result page (zh and en, no axe-core violation). Each screen is photographed."""

from __future__ import annotations

import re
from typing import Any

import pytest
from axe import assert_accessible
from browserkit import screenshot_dir
from minilogin_testkit import Stack
from playwright.async_api import Browser, Page

from shared.settings import DEV_ADMIN_TOKEN

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("stack_kind", ["embedded"])]
TICKETS = re.compile(r"/api/v1/tickets$")


async def _connection(stack: Stack, cid: str, **fields: Any) -> str:
    status, body = await stack.post(
        "/admin/v1/connections",
        {"id": cid, "display_name": "Tea House", **fields},
        headers={"Authorization": f"Bearer {DEV_ADMIN_TOKEN}"},
    )
    assert status == 201, body
    url: str = body["try_url"]
    return url


async def _confirm_on_the_phone(stack: Stack, page: Page, try_url: str) -> None:
    async with page.expect_response(
        lambda r: bool(TICKETS.search(r.url)) and r.status == 201
    ) as created:
        await page.goto(try_url)
    ticket = (await (await created.value).json())["ticket"]
    await page.wait_for_selector("#qr:not([hidden])")
    status, scan = await stack.scan(ticket, (await stack.users())[0]["openid"])
    assert status == 200, scan
    status, body = await stack.post(
        "/mp/v1/confirm", {"ticket": ticket, "session": scan["session"]}
    )
    assert status == 200, body


async def test_an_experience_login_lands_on_the_callback_url(
    stack: Stack, chromium: Browser
) -> None:
    landing = f"{stack.public}/demo/"
    try_url = await _connection(stack, "tea", callback_url=landing)
    page = await (await chromium.new_context(locale="en-US")).new_page()

    await _confirm_on_the_phone(stack, page, try_url)

    await page.wait_for_url(landing)
    assert await page.text_content("h1") == "MiniLogin Demo Shop"


@pytest.mark.parametrize(
    ("locale", "title"), [("zh-CN", "体验登录成功"), ("en-US", "Experience login succeeded")]
)
async def test_without_a_callback_url_our_page_shows_the_result(
    stack: Stack, chromium: Browser, locale: str, title: str
) -> None:
    try_url = await _connection(stack, "tea")
    page = await (await chromium.new_context(locale=locale)).new_page()

    await _confirm_on_the_phone(stack, page, try_url)

    await page.wait_for_selector("#result[data-outcome=ok]")
    assert await page.text_content("#result") == title
    assert "Tea House" in (await page.text_content("#detail") or "")
    lang = locale[:2]
    await page.screenshot(path=str(screenshot_dir() / f"try-result-{lang}.png"))
    await assert_accessible(page, f"experience login result ({lang})")
