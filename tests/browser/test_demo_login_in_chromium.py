"""A person's first login, in real Chromium: demo site -> QR -> phone simulator -> back on
the demo site, logged in from a verified ID token, without reloading or polling."""

from __future__ import annotations

import base64
import io
import re
from pathlib import Path

import pytest
from browserkit import screenshot_dir
from minilogin_testkit import Stack, wait_for_status
from PIL import Image, ImageDraw
from playwright.async_api import Browser, Page

pytestmark = pytest.mark.browser


@pytest.fixture
def screenshots() -> Path:
    return screenshot_dir()


@pytest.mark.parametrize("stack_kind", ["embedded"])
async def test_person_logs_in_on_the_demo_site_with_the_phone_simulator(
    stack: Stack,
    chromium: Browser,
    screenshots: Path,
) -> None:
    user = (await stack.users())[0]
    pc = await (await chromium.new_context(locale="zh-CN")).new_page()
    phone = await (await chromium.new_context(viewport={"width": 400, "height": 720})).new_page()
    requests: list[str] = []
    pc.on("request", lambda r: requests.append(r.url))

    await pc.goto(f"{stack.public}/demo/")
    await pc.click("#login")
    await pc.wait_for_selector("#qr:not([hidden])")
    await pc.wait_for_function("document.getElementById('qr').naturalWidth > 0")
    assert await pc.text_content("#status") == "请使用微信扫描二维码"
    await pc.screenshot(path=str(screenshots / "1-login-page-with-qr.png"))
    phone_url = await pc.get_attribute("#phone-link", "href")
    assert phone_url

    await phone.goto(phone_url)
    await phone.wait_for_selector(f"#user option[value='{user['openid']}']", state="attached")
    await phone.select_option("#user", user["openid"])
    await phone.click("#scan")
    await phone.wait_for_selector("#step-confirm:not([hidden])")
    assert await phone.text_content("#site-name") == "MiniLogin Demo Shop"
    assert await phone.text_content("#req-ip") == "127.0.0.1"
    assert "Chrome" in (await phone.text_content("#req-browser") or "")
    await pc.wait_for_function("document.getElementById('status').textContent.includes('扫码成功')")
    # A first-time user: no account to name, and the phone's own claim is not shown.
    assert await pc.is_hidden("#scanner")
    await phone.screenshot(path=str(screenshots / "2-phone-asks-who.png"))
    await pc.screenshot(path=str(screenshots / "3-pc-scanned.png"))
    await phone.check("#share-phone")
    await phone.click("#confirm")

    await pc.wait_for_url(f"{stack.public}/demo/")
    assert await pc.text_content("#who") == user["nickname"]
    claims = await pc.text_content("#claims")
    assert claims is not None
    assert user["phone"] in claims
    await pc.screenshot(path=str(screenshots / "4-demo-site-logged-in.png"))
    # Pushed, not polled: the page never asked the status endpoint.
    assert not [u for u in requests if re.search(r"/api/v1/tickets/[0-9A-Za-z]{22}$", u)]


@pytest.mark.parametrize("stack_kind", ["embedded"])
async def test_popup_login_hands_the_result_to_the_opener_by_post_message(
    stack: Stack,
    chromium: Browser,
    screenshots: Path,
) -> None:
    user = (await stack.users())[1]
    context = await chromium.new_context(locale="en-US")
    site = await context.new_page()
    await site.goto(f"{stack.public}/demo/")
    async with context.expect_page() as popup_info:
        await site.click("#login-popup")
    popup = await popup_info.value
    await popup.wait_for_selector("#qr:not([hidden])")
    assert await popup.text_content("#status") == "Scan the QR code with WeChat"
    phone_url = await popup.get_attribute("#phone-link", "href")
    assert phone_url

    phone = await (await chromium.new_context()).new_page()
    await phone.goto(phone_url)
    await phone.wait_for_selector(f"#user option[value='{user['openid']}']", state="attached")
    await phone.select_option("#user", user["openid"])
    await phone.select_option("#scene", "1013")  # a picture from the album: warn first
    await phone.click("#scan")
    await phone.wait_for_selector("#risk:not([hidden])")
    assert await phone.is_disabled("#confirm")
    await phone.screenshot(path=str(screenshots / "5-phone-warns-album-picture.png"))
    await phone.check("#risk-ok")
    await phone.click("#confirm")

    await site.wait_for_url(f"{stack.public}/demo/")
    assert await site.text_content("#who") == user["nickname"]
    assert popup.is_closed()


def _avatar_data_url() -> str:
    """An avatar as /mp/v1/avatar hands them out: a 96 x 96 PNG (a white disc on green)."""
    img = Image.new("RGB", (96, 96), (7, 193, 96))
    ImageDraw.Draw(img).ellipse((24, 24, 72, 72), fill=(255, 255, 255))
    out = io.BytesIO()
    img.save(out, format="PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


async def _first_login(stack: Stack, openid: str, **profile: str) -> None:
    """A login earlier on (over the API): the account keeps the profile given at confirm."""
    browser = stack.browser()
    ticket, _ = await browser.ticket()
    async with browser.socket(ticket["ticket"]) as ws:
        _, scan = await stack.scan(ticket["ticket"], openid)
        await stack.post(
            "/mp/v1/confirm", {"ticket": ticket["ticket"], "session": scan["session"], **profile}
        )
        await wait_for_status(ws, "succeeded")


async def _scan_with_the_phone_simulator(chromium: Browser, pc: Page, openid: str) -> Page:
    phone_url = await pc.get_attribute("#phone-link", "href")
    assert phone_url
    phone = await (await chromium.new_context(viewport={"width": 400, "height": 720})).new_page()
    await phone.goto(phone_url)
    await phone.wait_for_selector(f"#user option[value='{openid}']", state="attached")
    await phone.select_option("#user", openid)
    await phone.click("#scan")
    await phone.wait_for_selector("#step-confirm:not([hidden])")
    return phone


@pytest.mark.parametrize("stack_kind", ["embedded"])
async def test_a_returning_users_scan_shows_their_name_and_picture_on_the_pc(
    stack: Stack,
    chromium: Browser,
    screenshots: Path,
) -> None:
    user = (await stack.users())[2]
    await _first_login(
        stack, user["openid"], nickname=user["nickname"], avatar_url=_avatar_data_url()
    )
    pc = await (await chromium.new_context(locale="zh-CN")).new_page()
    await pc.goto(f"{stack.public}/demo/")
    await pc.click("#login")
    await pc.wait_for_selector("#qr:not([hidden])")

    phone = await _scan_with_the_phone_simulator(chromium, pc, user["openid"])
    await pc.wait_for_selector("#scanner", state="visible")
    assert await pc.text_content("#status") == "扫码成功，请在手机上确认登录"
    assert await pc.text_content("#scanner-by") == "扫码账号："
    assert await pc.text_content("#scanner-name") == user["nickname"]
    await pc.wait_for_function("document.getElementById('scanner-avatar').naturalWidth === 96")
    assert await pc.is_visible("#scanner-avatar")
    await pc.screenshot(path=str(screenshots / "6-pc-scanned-by-returning-user-zh.png"))

    await pc.click("#lang")
    assert await pc.text_content("#scanner") == f"Scanned by {user['nickname']}"
    await pc.screenshot(path=str(screenshots / "7-pc-scanned-by-returning-user-en.png"))

    await phone.click("#confirm")
    await pc.wait_for_url(f"{stack.public}/demo/")
    assert await pc.text_content("#who") == user["nickname"]
