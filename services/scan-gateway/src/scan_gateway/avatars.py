"""POST /mp/v1/avatar: the picture from WeChat's avatar component, made safe to show.

`chooseAvatar` gives the mini program a local file; it uploads it here with its scan
session. We decode it, shrink it to 96 px and re-encode it as PNG (no metadata, no script,
no tracking URL), and hand back a small data URL for /mp/v1/confirm.
"""

from __future__ import annotations

import asyncio
import base64
import io

from aiohttp import web
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


@routes.post("/mp/v1/avatar")
async def upload_avatar(request: web.Request) -> web.Response:
    gw = request.app[GATEWAY]
    if not request.content_type.startswith("multipart/"):
        raise InvalidRequest("Upload the avatar as multipart/form-data with a field 'avatar'.")
    fields: dict[str, bytes] = {}
    reader = await request.multipart()
    async for part in reader:
        name = getattr(part, "name", None)
        if name in ("ticket", "session", "avatar") and name not in fields:
            data = await part.read(decode=False)  # type: ignore[union-attr]  # a BodyPartReader
            if len(data) > MAX_UPLOAD:
                raise InvalidRequest("The avatar is larger than 2 MiB.")
            fields[name] = bytes(data)
    missing = [f for f in ("ticket", "session", "avatar") if not fields.get(f)]
    if missing:
        raise InvalidRequest(f"Missing form fields: {', '.join(missing)}.")
    await gw.sessions.require(
        fields["session"].decode(errors="replace"), fields["ticket"].decode(errors="replace")
    )
    png = await asyncio.get_running_loop().run_in_executor(None, shrink, fields["avatar"])
    return web.json_response({"url": "data:image/png;base64," + base64.b64encode(png).decode()})
