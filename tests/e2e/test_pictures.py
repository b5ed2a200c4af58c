"""Pictures from outside (connection logos, phone avatars) are decoded in full within size
limits and re-encoded before a phone, a browser or a relying party sees them."""

from __future__ import annotations

import base64
import io
import struct
import zlib
from typing import Any

import aiohttp
import pytest
from minilogin_testkit import Stack, png_data_url
from PIL import Image

from shared.settings import DEV_ADMIN_TOKEN

ADMIN = {"Authorization": f"Bearer {DEV_ADMIN_TOKEN}"}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def decompression_bomb(side: int = 15_000) -> bytes:
    """A valid grey PNG of side x side pixels (225 megapixels), a few hundred kB of zeros
    compressed to a few hundred bytes: decoding it would take hundreds of megabytes."""
    ihdr = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    row = b"\x00" * (side + 1)  # filter byte + pixels
    compressor = zlib.compressobj(9)
    data = b"".join(compressor.compress(row) for _ in range(side)) + compressor.flush()
    return PNG_SIGNATURE + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", data) + _chunk(b"IEND", b"")


def data_url(raw: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(raw).decode()


async def create_connection(stack: Stack, cid: str, **fields: Any) -> tuple[int, Any]:
    body = {"id": cid, "display_name": f"Site {cid}", "apps": ["demo"], **fields}
    async with stack.http.post(stack.url("/admin/v1/connections"), json=body, headers=ADMIN) as r:
        return r.status, await r.json()


@pytest.fixture(scope="module")
def bomb() -> bytes:
    return decompression_bomb()


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("junk", "not a picture we can read"),
        ("bomb", "too large"),
        ("svg", "must be a PNG"),
    ],
)
async def test_a_logo_that_is_no_clean_png_is_refused_and_not_stored(
    stack: Stack, bomb: bytes, name: str, problem: str
) -> None:
    raw = {
        "junk": PNG_SIGNATURE + b"<script>alert(1)</script>" * 20,
        "bomb": bomb,
        "svg": b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
    }[name]
    status, body = await create_connection(stack, f"logo-{name}", logo=data_url(raw))
    assert status == 400, body
    assert body["error"]["code"] == "invalid_request"
    assert problem in body["error"]["message"]
    assert body["error"]["message"].startswith("logo")
    async with stack.http.get(stack.url(f"/api/v1/connections/logo-{name}/logo.png")) as r:
        assert r.status == 404  # nothing was stored


async def test_the_same_bad_logo_is_refused_on_an_update(stack: Stack) -> None:
    status, _ = await create_connection(stack, "logo-later", logo=png_data_url())
    assert status == 201
    bad = data_url(PNG_SIGNATURE + b"junk")
    async with stack.http.patch(
        stack.url("/admin/v1/connections/logo-later"), json={"logo": bad}, headers=ADMIN
    ) as r:
        assert r.status == 400
        assert (await r.json())["error"]["code"] == "invalid_request"
    async with stack.http.get(stack.url("/api/v1/connections/logo-later/logo.png")) as r:
        assert r.status == 200
        assert Image.open(io.BytesIO(await r.read())).size == (64, 64)  # the old one stays


async def test_a_logo_is_served_re_encoded_without_its_extra_chunks(stack: Stack) -> None:
    out = io.BytesIO()
    Image.new("RGBA", (900, 300), (200, 30, 30, 255)).save(out, format="PNG")
    # A text chunk and bytes after the end: neither may reach a phone.
    raw = out.getvalue()
    raw = raw[:-12] + _chunk(b"tEXt", b"Comment\x00<script>x</script>") + raw[-12:] + b"trailer"
    status, body = await create_connection(stack, "logo-clean", logo=data_url(raw))
    assert status == 201, body
    async with stack.http.get(stack.url("/api/v1/connections/logo-clean/logo.png")) as r:
        served = await r.read()
    assert b"<script>" not in served
    assert not served.endswith(b"trailer")
    img = Image.open(io.BytesIO(served))
    assert (img.format, img.size) == ("PNG", (256, 85))  # shrunk to fit, proportions kept
    assert img.convert("RGBA").getpixel((128, 40)) == (200, 30, 30, 255)


def _jpeg(size: tuple[int, int] = (320, 240)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (10, 120, 200)).save(out, format="JPEG")
    return out.getvalue()


async def _upload(stack: Stack, ticket: str, session: str, data: bytes) -> tuple[int, Any]:
    form = aiohttp.FormData()
    form.add_field("ticket", ticket)
    form.add_field("session", session)
    form.add_field("avatar", data, filename="tmp.jpg", content_type="image/jpeg")
    async with stack.http.post(stack.url("/mp/v1/avatar"), data=form) as r:
        return r.status, await r.json()


async def test_an_avatar_bomb_is_refused(stack: Stack, bomb: bytes) -> None:
    user = (await stack.users())[0]
    ticket, _ = await stack.browser().ticket()
    _, scan = await stack.scan(ticket["ticket"], user["openid"])
    status, body = await _upload(stack, ticket["ticket"], scan["session"], bomb)
    assert status == 400
    assert "too large" in body["error"]["message"]


async def test_avatar_uploads_are_limited_per_scan_session(fake_clock_stack: Stack) -> None:
    # A clock that stands still keeps every upload in one rate-limit window.
    stack = fake_clock_stack
    user = (await stack.users())[0]
    ticket, _ = await stack.browser().ticket()
    _, scan = await stack.scan(ticket["ticket"], user["openid"])
    statuses = [
        (await _upload(stack, ticket["ticket"], scan["session"], _jpeg()))[0] for _ in range(6)
    ]
    assert statuses == [200] * 5 + [429]


async def test_avatar_uploads_are_limited_per_wechat_user(fake_clock_stack: Stack) -> None:
    stack = fake_clock_stack
    alice, bob = (await stack.users())[:2]
    statuses = []
    for _ in range(4):  # four scans of four tickets, four uploads each
        ticket, _ = await stack.browser().ticket()
        _, scan = await stack.scan(ticket["ticket"], alice["openid"])
        for _ in range(4):
            statuses.append((await _upload(stack, ticket["ticket"], scan["session"], _jpeg()))[0])
    assert statuses == [200] * 15 + [429]
    # Another person is not held back by it.
    ticket, _ = await stack.browser().ticket()
    _, scan = await stack.scan(ticket["ticket"], bob["openid"])
    assert (await _upload(stack, ticket["ticket"], scan["session"], _jpeg()))[0] == 200
