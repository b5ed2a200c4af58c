"""The avatar the user picks in the mini program is re-encoded before anyone sees it."""

from __future__ import annotations

import base64
import io
from typing import Any

import aiohttp
from minilogin_testkit import Stack, wait_for_status
from PIL import Image


def _jpeg_with_metadata() -> bytes:
    out = io.BytesIO()
    exif = Image.Exif()
    exif[0x010E] = "secret GPS-ish description"
    Image.new("RGB", (640, 480), (10, 120, 200)).save(out, format="JPEG", exif=exif)
    return out.getvalue()


async def _upload(
    stack: Stack, ticket: str, session: str, data: bytes
) -> tuple[int, dict[str, Any]]:
    form = aiohttp.FormData()
    form.add_field("ticket", ticket)
    form.add_field("session", session)
    form.add_field("avatar", data, filename="tmp.jpg", content_type="image/jpeg")
    async with stack.http.post(stack.url("/mp/v1/avatar"), data=form) as r:
        return r.status, await r.json()


async def test_uploaded_avatar_is_shrunk_cleaned_and_shown_to_the_browser(stack: Stack) -> None:
    user = (await stack.users())[0]
    browser = stack.browser()
    ticket, _ = await browser.ticket()
    _, scan = await stack.scan(ticket["ticket"], user["openid"])

    status, body = await _upload(stack, ticket["ticket"], scan["session"], _jpeg_with_metadata())

    assert status == 200, body
    png = base64.b64decode(body["url"].removeprefix("data:image/png;base64,"))
    img = Image.open(io.BytesIO(png))
    assert (img.format, img.size) == ("PNG", (96, 96))
    assert b"GPS-ish" not in png
    async with browser.socket(ticket["ticket"]) as ws:
        await stack.post(
            "/mp/v1/confirm",
            {"ticket": ticket["ticket"], "session": scan["session"], "avatar_url": body["url"]},
        )
        await wait_for_status(ws, "succeeded")
    assert (await stack.tickets.require(ticket["ticket"])).scanner_avatar == body["url"]


async def test_avatar_upload_needs_the_scan_session_and_a_real_picture(stack: Stack) -> None:
    user = (await stack.users())[0]
    ticket, _ = await stack.browser().ticket()
    _, scan = await stack.scan(ticket["ticket"], user["openid"])
    status, body = await _upload(stack, ticket["ticket"], "forged", _jpeg_with_metadata())
    assert (status, body["error"]["code"]) == (401, "invalid_session")
    status, body = await _upload(stack, ticket["ticket"], scan["session"], b"<svg onload=x>")
    assert (status, body["error"]["code"]) == (400, "invalid_request")
