"""The profile a phone sends with its scan or confirm (nickname, avatar), checked and cleaned
here: both reach the relying party in the ID token (`name`, `picture`) and its pages."""

from __future__ import annotations

import base64
import binascii
import re
import unicodedata
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field

from scan_gateway.avatars import DATA_URL, SIZE
from shared.images import BadPicture, clean_png

NICKNAME_MAX = 32  # characters kept, as the mini program's nickname input keeps
# WeChat's own avatar hosts (the URLs its user-info APIs hand out).
WECHAT_AVATAR_HOSTS = frozenset({"thirdwx.qlogo.cn", "wx.qlogo.cn"})
# Invisible characters that rewrite how a name reads: Cc controls (NUL, ESC, newlines), Cf
# format characters (bidi overrides and isolates such as U+202E that turn "moc.evil" around,
# zero-width spaces and joiners, the BOM) and lone surrogates.
_HIDDEN = frozenset({"Cc", "Cf", "Cs"})
_SPACES = re.compile(r"\s+")


def clean_nickname(value: str | None) -> str | None:
    """The nickname without hidden characters, runs of white space as one space, at most
    NICKNAME_MAX characters; None when nothing visible is left."""
    if value is None:
        return None
    text = unicodedata.normalize("NFC", value)
    # Line and paragraph separators and tabs become spaces before the rest is dropped.
    text = "".join(
        " " if ch.isspace() else ch
        for ch in text
        if ch.isspace() or unicodedata.category(ch) not in _HIDDEN
    )
    text = _SPACES.sub(" ", text).strip()[:NICKNAME_MAX].rstrip()
    return text or None


def check_avatar_url(value: str | None) -> str | None:
    """Only an avatar as /mp/v1/avatar hands them out (a 96 x 96 PNG data URL, re-encoded
    here again so no chunk of the sender's survives) or https on WeChat's avatar hosts.
    Anything else (an SVG with script, a tracking URL of the sender's) is refused."""
    if value is None or value == "":
        return None
    if value.startswith(DATA_URL):
        try:
            raw = base64.b64decode(value[len(DATA_URL) :], validate=True)
        except binascii.Error:
            raise ValueError("the avatar data URL is not valid base64") from None
        try:
            png = clean_png(raw, what="The avatar", fit=SIZE, exact=True, formats=("PNG",))
        except BadPicture as exc:
            raise ValueError(exc.detail_message) from None
        return DATA_URL + base64.b64encode(png).decode()
    if _wechat_avatar(value):
        return value
    raise ValueError(
        "must be an avatar uploaded to /mp/v1/avatar (its data URL) or a WeChat avatar URL "
        "(https://thirdwx.qlogo.cn/... or https://wx.qlogo.cn/...)"
    )


def _wechat_avatar(url: str) -> bool:
    if any(ch.isspace() or unicodedata.category(ch) in _HIDDEN for ch in url):
        return False
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return False
    return (
        parts.scheme == "https"
        and parts.hostname in WECHAT_AVATAR_HOSTS
        and parts.netloc == parts.hostname  # no user, password or port
        and port is None
        and parts.path.startswith("/")
        and not parts.fragment
    )


Nickname = Annotated[str | None, Field(max_length=64), AfterValidator(clean_nickname)]
AvatarUrl = Annotated[str | None, Field(max_length=65536), AfterValidator(check_avatar_url)]
