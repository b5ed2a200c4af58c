"""POST /mp/v1/avatar: the picture from WeChat's avatar component, made safe to show.

`chooseAvatar` gives the mini program a local file; it uploads it here with its scan
session. We decode it, shrink it to 96 px and re-encode it as PNG (no metadata, no script,
no tracking URL), and hand back a small data URL for /mp/v1/confirm.
"""

from __future__ import annotations

import asyncio
import base64

from aiohttp import BodyPartReader, web
from aiohttp.http_exceptions import HttpProcessingError

from scan_gateway.context import GATEWAY
from scan_gateway.sessions import ScanSession
from shared import ids
from shared.errors import InvalidRequest
from shared.images import clean_png
from shared.profile import AVATAR_DATA_URL, AVATAR_SIZE

routes = web.RouteTableDef()
MAX_UPLOAD = 2 * 1024 * 1024
# Uploads per minute. Each may be a full decode of up to 4096 x 4096 pixels (about 0.25 s of
# CPU), so a phone gets a few tries per scan and a WeChat user a few scans' worth.
AVATARS_PER_SESSION = 5
AVATARS_PER_USER = 15


def shrink(raw: bytes) -> bytes:
    return clean_png(raw, what="The avatar", fit=AVATAR_SIZE, square=True)


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


async def _count_upload(request: web.Request, token: bytes, session: ScanSession) -> None:
    """Count this upload against its scan session and its WeChat user, before the picture
    is read: past either limit the answer is 429 and nothing is decoded."""
    limiter = request.app[GATEWAY].limiter
    # The session token is a bearer secret: its hash names the counter.
    subject = ids.sha256_hex(token.decode(errors="replace"))
    await limiter.hit("avatar-session", subject, limit=AVATARS_PER_SESSION, per=60)
    await limiter.hit("avatar-user", session.openid, limit=AVATARS_PER_USER, per=60)


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
            session = await gw.sessions.require(
                fields["session"].decode(errors="replace"),
                fields["ticket"].decode(errors="replace"),
            )
            await _count_upload(request, fields["session"], session)
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
    return web.json_response({"url": AVATAR_DATA_URL + base64.b64encode(png).decode()})
