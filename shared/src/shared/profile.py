"""A WeChat user's profile (nickname, avatar) as it may be shown: what scan-gateway keeps of
what a phone sends, and what the account service checks again before a stored profile
reaches a page (records may predate these rules, or be edited in the database)."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import urlsplit

NICKNAME_MAX = 32  # characters kept, as the mini program's nickname input keeps
# The only avatar pictures that are ours: the PNG /mp/v1/avatar re-encoded, as a data URL.
AVATAR_DATA_URL = "data:image/png;base64,"
AVATAR_SIZE = 96
# WeChat's own avatar hosts (the URLs its user-info APIs hand out).
WECHAT_AVATAR_HOSTS = frozenset({"thirdwx.qlogo.cn", "wx.qlogo.cn"})
# Where a page showing avatars loads them from (its Content-Security-Policy img-src).
AVATAR_IMG_SOURCES = "data: " + " ".join(f"https://{h}" for h in sorted(WECHAT_AVATAR_HOSTS))
# Invisible characters that rewrite how a name reads: Cc controls (NUL, ESC, newlines), Cf
# format characters (bidi overrides and isolates such as U+202E that turn "moc.evil" around,
# zero-width spaces and joiners, the BOM) and lone surrogates.
_HIDDEN = frozenset({"Cc", "Cf", "Cs"})
_SPACES = re.compile(r"\s+")
_BASE64 = re.compile(r"[A-Za-z0-9+/]+={0,2}")


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


def is_wechat_avatar(url: str) -> bool:
    """https on one of WeChat's avatar hosts, with no user, password, port or fragment."""
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


def showable_avatar(url: str | None) -> str | None:
    """`url` if it has the shape of one of our avatars (a base64 PNG data URL) or is on
    WeChat's hosts; None otherwise. Only the shape: the pixels were re-encoded on the way in."""
    if not url:
        return None
    if url.startswith(AVATAR_DATA_URL):
        return url if _BASE64.fullmatch(url, len(AVATAR_DATA_URL)) else None
    return url if is_wechat_avatar(url) else None
