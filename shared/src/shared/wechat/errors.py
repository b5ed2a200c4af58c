"""WeChat errcodes mapped onto our typed errors.

Callers branch on the class (or its stable `code`), never on WeChat's `errmsg`, which is
log text with a request id appended. The original errcode stays on the exception.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import ClassVar

from shared.errors import (
    AppError,
    Forbidden,
    InvalidRequest,
    RateLimited,
    ServiceUnavailable,
    UpstreamError,
)

__all__ = [
    "BUSY",
    "TOKEN_REJECTED",
    "WeChatAuthFailed",
    "WeChatBusy",
    "WeChatCodeBlocked",
    "WeChatDataError",
    "WeChatError",
    "WeChatInvalidArgument",
    "WeChatInvalidCode",
    "WeChatLinkNotAllowed",
    "WeChatRateLimited",
    "WeChatUnavailable",
    "WeChatWatermarkMismatch",
    "error_for",
]

BUSY = -1
# The token was refused: fetch a new one and retry once (wechatpy and WxJava do the same).
TOKEN_REJECTED = frozenset({40001, 40014, 42001})

_RID = re.compile(r"rid: ([0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8})")


class WeChatError(AppError):
    """WeChat answered with an errcode we have no narrower class for (the base of them all)."""

    status: ClassVar[int] = 502
    code: ClassVar[str] = "wechat_error"
    message: ClassVar[str] = "The WeChat API returned an error."

    def __init__(
        self,
        message: str | None = None,
        *,
        errcode: int | None = None,
        errmsg: str | None = None,
    ) -> None:
        super().__init__(message)
        self.errcode = errcode
        # WeChat's own text, e.g. "invalid code, rid: 668f2aa4-51c08c03-3d141241": log text only.
        self.errmsg = errmsg
        match = _RID.search(errmsg or "")
        self.rid = match.group(1) if match else None

    def __str__(self) -> str:
        if self.errcode is None:
            return self.detail_message
        return f"{self.detail_message} (errcode {self.errcode})"


class WeChatInvalidCode(WeChatError, InvalidRequest):
    """A wx.login or phone code that is unknown, expired, already used or from another app."""

    status: ClassVar[int] = 400
    code: ClassVar[str] = "wechat_invalid_code"
    message: ClassVar[str] = "The WeChat code is invalid, expired or already used."


class WeChatCodeBlocked(WeChatError, Forbidden):
    """WeChat flagged the user as high risk and intercepted the login (40226)."""

    status: ClassVar[int] = 403
    code: ClassVar[str] = "wechat_code_blocked"
    message: ClassVar[str] = "WeChat blocked this login for the user's account safety."


class WeChatRateLimited(WeChatError, RateLimited):
    status: ClassVar[int] = 429
    code: ClassVar[str] = "wechat_rate_limited"
    message: ClassVar[str] = "The WeChat API quota is exhausted; retry later."


class WeChatBusy(WeChatError, ServiceUnavailable):
    """WeChat kept answering -1 (system error) after our retries."""

    status: ClassVar[int] = 503
    code: ClassVar[str] = "wechat_busy"
    message: ClassVar[str] = "The WeChat API is busy; retry later."


class WeChatUnavailable(WeChatError, ServiceUnavailable):
    """Transport failure: timeout, connection error or a non-200 status."""

    status: ClassVar[int] = 503
    code: ClassVar[str] = "wechat_unreachable"
    message: ClassVar[str] = "The WeChat API could not be reached."


class WeChatAuthFailed(WeChatError, UpstreamError):
    """Our credentials or permissions were refused: appid, secret, IP whitelist, token."""

    status: ClassVar[int] = 502
    code: ClassVar[str] = "wechat_auth_failed"
    message: ClassVar[str] = "WeChat refused the application's credentials."


class WeChatInvalidArgument(WeChatError, UpstreamError):
    """WeChat refused an argument we sent (scene, page, env_version, body format)."""

    status: ClassVar[int] = 502
    code: ClassVar[str] = "wechat_invalid_argument"
    message: ClassVar[str] = "WeChat refused a request argument."


class WeChatDataError(WeChatError, InvalidRequest):
    """WeChat data about the user that does not check out (see the watermark mismatch)."""

    status: ClassVar[int] = 400
    code: ClassVar[str] = "wechat_data_invalid"
    message: ClassVar[str] = "The encrypted WeChat data could not be decrypted."


class WeChatWatermarkMismatch(WeChatDataError):
    """The data's watermark names another mini program than ours."""

    code: ClassVar[str] = "wechat_watermark_mismatch"
    message: ClassVar[str] = "The WeChat data belongs to another mini program."


class WeChatLinkNotAllowed(WeChatError, UpstreamError):
    """WeChat will not make a URL Scheme or URL Link for this mini program: it has no
    published version (85079), or may not open from outside WeChat (40002: only verified
    organisations in mainland China may; 40013: the right was withdrawn)."""

    status: ClassVar[int] = 502
    code: ClassVar[str] = "wechat_link_not_allowed"
    message: ClassVar[str] = "WeChat does not open this mini program from outside WeChat."


# URL Scheme and URL Link: 40002 and 40013 mean "no permission to generate", not a wrong
# grant type or appid (the token was already accepted).
LINK_OVERRIDES: Mapping[int, type[WeChatError]] = {
    40002: WeChatLinkNotAllowed,
    40013: WeChatLinkNotAllowed,
}

_BY_ERRCODE: dict[int, type[WeChatError]] = {
    BUSY: WeChatBusy,
    40029: WeChatInvalidCode,
    40163: WeChatInvalidCode,
    40226: WeChatCodeBlocked,
    45009: WeChatRateLimited,
    45011: WeChatRateLimited,
    44990: WeChatRateLimited,  # links: more than 100 a second
    40001: WeChatAuthFailed,
    40013: WeChatAuthFailed,
    40014: WeChatAuthFailed,
    40125: WeChatAuthFailed,
    40164: WeChatAuthFailed,
    40243: WeChatAuthFailed,
    41001: WeChatAuthFailed,
    42001: WeChatAuthFailed,
    48001: WeChatAuthFailed,
    50002: WeChatAuthFailed,
    40097: WeChatInvalidArgument,
    40129: WeChatInvalidArgument,
    40169: WeChatInvalidArgument,
    41030: WeChatInvalidArgument,
    44002: WeChatInvalidArgument,
    47001: WeChatInvalidArgument,
    85096: WeChatInvalidArgument,
    40165: WeChatInvalidArgument,  # links: the page is not in the published version
    40212: WeChatInvalidArgument,  # links: the query
    85401: WeChatInvalidArgument,  # links: expiry outside 1 minute .. 30 days
    85402: WeChatInvalidArgument,  # links: env_version
    85079: WeChatLinkNotAllowed,
}


def error_for(
    errcode: int,
    errmsg: str | None = None,
    *,
    overrides: Mapping[int, type[WeChatError]] | None = None,
) -> WeChatError:
    """The typed error for a non-zero errcode; `overrides` adjusts it for one endpoint."""
    cls = (overrides or {}).get(errcode) or _BY_ERRCODE.get(errcode, WeChatError)
    return cls(errcode=errcode, errmsg=errmsg)
