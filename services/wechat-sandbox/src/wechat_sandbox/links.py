"""URL Scheme and URL Link (POST /wxa/generatescheme, /wxa/generate_urllink): links that
open the mini program from outside WeChat, e.g. a phone's browser.

Contract (developers.weixin.qq.com, OpenApiDoc qrcode-link/url-scheme/generateScheme and
url-link/generateUrlLink): `jump_wxa {path, query, env_version}` (URL Link: the same three
at the top level), `expire_type` 0 with `expire_time` (unix seconds) or 1 with
`expire_interval` (days); every link expires within 30 days. Errcodes: 40165 bad path,
40212 bad query, 85401 expiry out of range, 85402 bad env_version, 85079 no published
version, 44990 more than 100 a second, 45009 over the daily quota (500 000 schemes and links
together, per mini program). Success carries errcode 0 with `openlink` or `url_link`.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Any, Literal

from wechat_sandbox.limits import DAY
from wechat_sandbox.wxerrors import WxError

LinkKind = Literal["scheme", "link"]
QUERY_CHARS = re.compile(r"^[0-9A-Za-z!#$&'()*+,/:;=?@\-._~%]*$")
ENV_VERSIONS = frozenset({"release", "trial", "develop"})
MAX_DAYS = 30
_TOKEN_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


@dataclass(frozen=True, slots=True)
class IssuedLink:
    kind: LinkKind
    appid: str
    path: str
    query: str
    env_version: str
    expires_at: float

    def launch(self) -> dict[str, Any]:
        """What the mini program is opened with when a phone follows the link: the page and
        its query, and the launch scene (1065 URL Scheme, 1194 URL Link)."""
        return {
            "appid": self.appid,
            "page": self.path,
            "query": self.query,
            "env_version": self.env_version,
            "launch_scene": 1065 if self.kind == "scheme" else 1194,
            "expires_at": int(self.expires_at),
        }


def url_for(kind: LinkKind, token: str) -> str:
    if kind == "scheme":
        return f"weixin://dl/business/?t={token}"
    return f"https://wxaurl.cn/{token}"


def token_of(url: str) -> str | None:
    """The link's token, whichever form it has (the site may append `&cq=` or `?cq=`)."""
    match = re.match(r"^(?:weixin://dl/business/\?t=|https://wxaurl\.cn/)([0-9A-Za-z]+)", url)
    return match.group(1) if match else None


def _int(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise WxError(47001)
    return value


def expiry(body: dict[str, Any], now: float) -> float:
    """When the link ends, from expire_type/expire_time/expire_interval (85401 if out of
    range). Without expire_type: a given expire_time counts as type 0 (the older is_expire
    form); with neither, the longest life [unconfirmed: the real API may refuse it]."""
    expire_type = _int(body.get("expire_type"))
    expire_time = _int(body.get("expire_time"))
    interval = _int(body.get("expire_interval"))
    if expire_type is None:
        expire_type = 0 if expire_time is not None else 1
        interval = MAX_DAYS if interval is None else interval
    if expire_type == 0:
        if expire_time is None or not now + 60 <= expire_time <= now + MAX_DAYS * DAY:
            raise WxError(85401)
        return float(expire_time)
    if expire_type == 1:
        if interval is None or not 1 <= interval <= MAX_DAYS:
            raise WxError(85401)
        return now + interval * DAY
    raise WxError(47001)


def target(jump: Any, pages: tuple[str, ...]) -> tuple[str, str, str]:
    """(path, query, env_version) checked as WeChat does: a published page or none (the
    home page), a query of at most 1024 allowed characters, a known version."""
    if not isinstance(jump, dict):
        raise WxError(47001)
    path, query = jump.get("path", ""), jump.get("query", "")
    env_version = jump.get("env_version", "release")
    if not isinstance(path, str) or not isinstance(query, str):
        raise WxError(47001)
    if env_version not in ENV_VERSIONS:
        raise WxError(85402)
    if not pages:
        raise WxError(85079)
    path = path.lstrip("/")  # the docs' own examples write both forms
    if path and ("?" in path or path not in pages):
        raise WxError(40165)
    if len(query) > 1024 or not QUERY_CHARS.match(query):
        raise WxError(40212)
    return path or pages[0], query, env_version


def new_token() -> str:
    return "".join(secrets.choice(_TOKEN_ALPHABET) for _ in range(11))
