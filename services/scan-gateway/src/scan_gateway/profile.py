"""The profile a phone sends with its scan or confirm (nickname, avatar), checked and cleaned
here by shared.profile's rules: both reach the relying party in the ID token (`name`,
`picture`) and its pages, and the PC's login page."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated

from pydantic import AfterValidator, Field

from shared.images import BadPicture, clean_png
from shared.profile import AVATAR_DATA_URL, AVATAR_SIZE, clean_nickname, is_wechat_avatar


def check_avatar_url(value: str | None) -> str | None:
    """Only an avatar as /mp/v1/avatar hands them out (a 96 x 96 PNG data URL, re-encoded
    here again so no chunk of the sender's survives) or https on WeChat's avatar hosts.
    Anything else (an SVG with script, a tracking URL of the sender's) is refused."""
    if value is None or value == "":
        return None
    if value.startswith(AVATAR_DATA_URL):
        try:
            raw = base64.b64decode(value[len(AVATAR_DATA_URL) :], validate=True)
        except binascii.Error:
            raise ValueError("the avatar data URL is not valid base64") from None
        try:
            png = clean_png(raw, what="The avatar", fit=AVATAR_SIZE, exact=True, formats=("PNG",))
        except BadPicture as exc:
            raise ValueError(exc.detail_message) from None
        return AVATAR_DATA_URL + base64.b64encode(png).decode()
    if is_wechat_avatar(value):
        return value
    raise ValueError(
        "must be an avatar uploaded to /mp/v1/avatar (its data URL) or a WeChat avatar URL "
        "(https://thirdwx.qlogo.cn/... or https://wx.qlogo.cn/...)"
    )


Nickname = Annotated[str | None, Field(max_length=64), AfterValidator(clean_nickname)]
AvatarUrl = Annotated[str | None, Field(max_length=65536), AfterValidator(check_avatar_url)]
