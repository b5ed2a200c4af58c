"""POST /api/v1/tickets as the login page sees it: the inline QR decodes to the ticket's URL."""

from __future__ import annotations

import base64
import io
import json
from typing import Any

import zxingcpp
from minilogin_testkit import Stack, png_data_url
from PIL import Image

from shared.settings import DEV_ADMIN_TOKEN

ADMIN = {"Authorization": f"Bearer {DEV_ADMIN_TOKEN}"}
INLINE = "data:image/png;base64,"
# What the response's own encoding puts where the image goes, hidden in a display name.
TRICKY_NAME = '"data_url": null'


def decode(png: bytes) -> list[str]:
    return [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))]


async def add_connection(stack: Stack, cid: str, **fields: Any) -> None:
    body = {"id": cid, "display_name": f"Site {cid}", "apps": ["demo"], **fields}
    async with stack.http.post(stack.url("/admin/v1/connections"), json=body, headers=ADMIN) as r:
        assert r.status == 201, await r.text()


async def create(stack: Stack, connection: str) -> tuple[dict[str, Any], bytes, str]:
    browser = stack.browser()
    body = {
        "client_id": "demo",
        "redirect_uri": stack.redirect_uri,
        "code_challenge": "A" * 43,
        "connection": connection,
    }
    async with browser.session.post(stack.url("/api/v1/tickets"), json=body) as r:
        assert r.status == 201, await r.text()
        assert r.content_type == "application/json"
        raw = await r.read()
    ticket: dict[str, Any] = json.loads(raw)
    data_url = ticket["qr"]["data_url"]
    assert data_url.startswith(INLINE)
    return ticket, base64.b64decode(data_url[len(INLINE) :]), raw.decode()


async def test_inline_codes_decode_to_each_tickets_url_with_and_without_logo(
    stack: Stack,
) -> None:
    await add_connection(stack, "plain")
    await add_connection(stack, "branded", logo=png_data_url())
    for connection in ("plain", "branded") * 6:
        ticket, png, _ = await create(stack, connection)
        assert ticket["qr"]["content"] == f"{stack.public}/q/{ticket['ticket']}"
        assert decode(png) == [ticket["qr"]["content"]]
        assert Image.open(io.BytesIO(png)).mode == ("P" if connection == "branded" else "1")


async def test_inline_code_is_the_same_image_as_the_qr_png_endpoint(stack: Stack) -> None:
    await add_connection(stack, "branded-2", logo=png_data_url())
    ticket, png, _ = await create(stack, "branded-2")
    async with stack.http.get(stack.url(ticket["qr"]["image_url"])) as r:
        assert r.status == 200
        assert await r.read() == png


async def test_display_name_that_looks_like_the_image_slot_is_returned_unchanged(
    stack: Stack,
) -> None:
    await add_connection(stack, "tricky", display_name=TRICKY_NAME)
    ticket, png, raw = await create(stack, "tricky")
    assert ticket["connection"]["display_name"] == TRICKY_NAME
    assert decode(png) == [ticket["qr"]["content"]]
    assert raw.count(INLINE) == 1
