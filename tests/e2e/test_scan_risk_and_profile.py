"""What the phone sends at scan and confirm: its launch scene decides the warning, and the
profile (nickname, avatar) is cleaned before the site ever sees it."""

from __future__ import annotations

import base64
import io
from typing import Any

import pytest
from minilogin_testkit import Stack, code_from, wait_for_status
from PIL import Image, PngImagePlugin

from shared.tickets import TicketStatus


@pytest.mark.parametrize(
    ("scene", "reason"),
    [
        (1011, None),  # camera, QR code
        (1047, None),  # camera, mini program code
        (1012, "long_press_image"),
        (1048, "long_press_image"),
        (1013, "album_image"),
        (1049, "album_image"),
        (1007, "unknown_scene"),  # a link shared in a chat
        (1001, "unknown_scene"),  # the mini program list: no code was scanned
        (None, "unknown_scene"),  # the phone did not say
    ],
)
async def test_only_a_camera_scan_goes_without_a_warning(
    stack: Stack, scene: int | None, reason: str | None
) -> None:
    user = (await stack.users())[0]
    ticket, _ = await stack.browser().ticket()
    extra = {} if scene is None else {"launch_scene": scene}
    status, body = await stack.scan(ticket["ticket"], user["openid"], **extra)
    assert status == 200, body
    assert body["risk"] == {"warning": reason is not None, "reason": reason}


def _png(size: int, *, text: bytes = b"") -> str:
    out = io.BytesIO()
    info = PngImagePlugin.PngInfo()
    if text:
        info.add_text("Comment", text.decode())
    Image.new("RGB", (size, size), (7, 193, 96)).save(out, format="PNG", pnginfo=info)
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


SVG_WITH_SCRIPT = (
    "data:image/svg+xml;base64,"
    + base64.b64encode(
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script></svg>'
    ).decode()
)


async def _id_token_after(stack: Stack, **profile: str) -> dict[str, Any]:
    """A whole login whose phone sends `profile` with its confirm; the ID token's claims."""
    user = (await stack.users())[0]
    browser = stack.browser()
    ticket, verifier = await browser.ticket()
    async with browser.socket(ticket["ticket"]) as ws:
        _, scan = await stack.scan(ticket["ticket"], user["openid"], launch_scene=1011)
        status, body = await stack.post(
            "/mp/v1/confirm", {"ticket": ticket["ticket"], "session": scan["session"], **profile}
        )
        assert status == 200, body
        done = await wait_for_status(ws, "succeeded")
    code, _ = code_from(done["redirect_url"])
    _, tokens = await stack.exchange(code, verifier)
    return await stack.verify_id_token(tokens["id_token"])


@pytest.mark.parametrize(
    "url",
    [
        SVG_WITH_SCRIPT,
        "data:image/jpeg;base64,/9j/4AAQ",
        "https://tracker.example/pixel.png?u=1",
        "https://thirdwx.qlogo.cn.evil.example/a.png",
        "https://user@thirdwx.qlogo.cn/a.png",
        "https://thirdwx.qlogo.cn:8443/a.png",
        "http://thirdwx.qlogo.cn/a.png",
        "https://thirdwx.qlogo.cn/a.png\n",
        _png(97),  # not one of our 96 x 96 uploads
        "data:image/png;base64,iVBORw0KGgo=",  # a PNG signature and nothing else
    ],
)
async def test_an_avatar_url_that_is_not_ours_or_wechats_is_refused(stack: Stack, url: str) -> None:
    user = (await stack.users())[0]
    ticket, _ = await stack.browser().ticket()
    status, body = await stack.scan(ticket["ticket"], user["openid"], avatar_url=url)
    assert status == 400, body
    assert body["error"]["code"] == "invalid_request"
    assert body["error"]["details"][0]["field"] == "avatar_url"
    assert (await stack.tickets.require(ticket["ticket"])).status == TicketStatus.PENDING

    _, scan = await stack.scan(ticket["ticket"], user["openid"])
    status, body = await stack.post(
        "/mp/v1/confirm",
        {"ticket": ticket["ticket"], "session": scan["session"], "avatar_url": url},
    )
    assert status == 400, body
    assert (await stack.tickets.require(ticket["ticket"])).status == TicketStatus.SCANNED


async def test_a_wechat_avatar_url_becomes_the_picture_claim(stack: Stack) -> None:
    url = "https://thirdwx.qlogo.cn/mmopen/vi_32/Q0j4TwGTfTK/132"
    claims = await _id_token_after(stack, avatar_url=url)
    assert claims["picture"] == url


async def test_an_uploaded_avatar_is_stored_with_its_pixels_only(stack: Stack) -> None:
    claims = await _id_token_after(stack, avatar_url=_png(96, text=b"<script>x</script>"))
    picture = claims["picture"]
    assert picture.startswith("data:image/png;base64,")
    png = base64.b64decode(picture.split(",", 1)[1])
    assert b"<script>" not in png
    img = Image.open(io.BytesIO(png))
    assert (img.format, img.size, img.getpixel((5, 5))) == ("PNG", (96, 96), (7, 193, 96))


@pytest.mark.parametrize(
    ("sent", "shown"),
    [
        ("\u202egnp.exe\u202c Alice", "gnp.exe Alice"),  # a right-to-left override
        ("Al\u200bi\u200dce\ufeff", "Alice"),  # zero-width characters and a BOM
        ("Bob\x00\x1b[31m\r\nSmith\u2028Jr", "Bob[31m Smith Jr"),  # controls, line breaks
        ("  spaced   out  ", "spaced out"),
        ("王" * 40, "王" * 32),  # bounded
    ],
)
async def test_nicknames_lose_hidden_characters_and_are_bounded(
    stack: Stack, sent: str, shown: str
) -> None:
    claims = await _id_token_after(stack, nickname=sent)
    assert claims["name"] == shown


async def test_a_nickname_with_nothing_visible_is_no_nickname(stack: Stack) -> None:
    user = (await stack.users())[0]
    ticket, _ = await stack.browser().ticket()
    status, _ = await stack.scan(ticket["ticket"], user["openid"], nickname="\u200b\u202e\x07")
    assert status == 200
    assert (await stack.tickets.require(ticket["ticket"])).scanner_nickname == ""
