"""POST /mp/v1/avatar: the picture from WeChat's avatar component, made safe to show.

`chooseAvatar` gives the mini program a local file; it uploads it here with its scan
session. We decode it, shrink it to 96 px and re-encode it as PNG (no metadata, no script,
no tracking URL), and hand back a small data URL for /mp/v1/confirm.
"""

from __future__ import annotations

import asyncio
import base64
import io

from aiohttp import BodyPartReader, web
from aiohttp.http_exceptions import HttpProcessingError
from PIL import Image, UnidentifiedImageError

from scan_gateway.context import GATEWAY
from shared.errors import InvalidRequest

routes = web.RouteTableDef()
MAX_UPLOAD = 2 * 1024 * 1024
SIZE = 96


def shrink(raw: bytes) -> bytes:
    try:
        with Image.open(io.BytesIO(raw)) as img:
            if img.width * img.height > 4096 * 4096:
                raise InvalidRequest("The avatar image is too large.")
            img.draft("RGB", (SIZE * 2, SIZE * 2))  # cheap JPEG downscale before decoding
            small = img.convert("RGB")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise InvalidRequest("The avatar is not a picture we can read.") from exc
    side = min(small.size)
    left, top = (small.width - side) // 2, (small.height - side) // 2
    small = small.crop((left, top, left + side, top + side)).resize((SIZE, SIZE))
    out = io.BytesIO()
    small.save(out, format="PNG", optimize=True)
    return out.getvalue()


# What aiohttp's multipart reader raises on a malformed body (a bad boundary, a control
# character in a part header, a truncated part). Its Bad*Disposition* RuntimeWarnings are
# raised, not just warned, where warnings are errors (the tests).
MALFORMED = (ValueError, HttpProcessingError, RuntimeWarning)
FIELD_LIMITS = {"ticket": 64, "session": 256, "avatar": MAX_UPLOAD}


async def _part_bytes(part: BodyPartReader, name: str) -> bytes:
    """The part's raw bytes, reading no further than its limit allows."""
    data = bytearray()
    while chunk := await part.read_chunk():
        data += chunk
        if len(data) > FIELD_LIMITS[name]:
            if name == "avatar":
                raise InvalidRequest("The avatar is larger than 2 MiB.")
            raise InvalidRequest(f"The form field {name!r} is too long.")
    return bytes(data)


async def _form(request: web.Request) -> dict[str, bytes]:
    """ticket, session and avatar from the multipart body. The session is checked as soon as
    ticket and session are in (the mini program sends them before the file), so without a
    valid one nobody gets us to read, let alone decode, a picture."""
    gw = request.app[GATEWAY]
    fields: dict[str, bytes] = {}
    checked = False
    reader = await request.multipart()
    async for part in reader:
        if not isinstance(part, BodyPartReader):
            raise InvalidRequest("Nested multipart bodies are not accepted.")
        name = part.name
        if name in FIELD_LIMITS and name not in fields:
            fields[name] = await _part_bytes(part, name)
        if not checked and fields.get("ticket") and fields.get("session"):
            await gw.sessions.require(
                fields["session"].decode(errors="replace"),
                fields["ticket"].decode(errors="replace"),
            )
            checked = True
    missing = [f for f in FIELD_LIMITS if not fields.get(f)]
    if missing:
        raise InvalidRequest(f"Missing form fields: {', '.join(missing)}.")
    return fields


@routes.post("/mp/v1/avatar")
async def upload_avatar(request: web.Request) -> web.Response:
    if request.content_type != "multipart/form-data":
        raise InvalidRequest("Upload the avatar as multipart/form-data with a field 'avatar'.")
    try:
        fields = await _form(request)
    except MALFORMED as exc:
        raise InvalidRequest("The multipart body is malformed.") from exc
    png = await asyncio.get_running_loop().run_in_executor(None, shrink, fields["avatar"])
    return web.json_response({"url": "data:image/png;base64," + base64.b64encode(png).decode()})
