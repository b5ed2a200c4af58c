"""WeChat's error envelope: errcodes, their English texts, request ids."""

from __future__ import annotations

import secrets
from typing import Final

ERRMSG: Final[dict[int, str]] = {
    -1: "system error",
    40001: "invalid credential, access_token is invalid or not latest",
    40002: "invalid grant_type",
    40013: "invalid appid",
    40014: "invalid access_token",
    40029: "invalid code",
    40097: "invalid args",
    40125: "invalid appsecret",
    40129: "invalid scene",
    40165: "invalid weapp pagepath",
    40163: "code been used",
    40164: "invalid ip, not in whitelist",
    40169: "invalid length for scene, or the data is not json string",
    40212: "invalid query",
    40226: "code blocked",
    41001: "access_token missing",
    41002: "appid missing",
    41004: "appsecret missing",
    41008: "missing code",
    41030: "invalid page",
    42001: "access_token expired",
    43001: "require GET method",
    43002: "require POST method",
    44002: "empty post data",
    44990: "reach max api frequency limit",
    45009: "reach max api daily quota limit",
    45011: "api minute-quota reach limit, must slower, retry next minute",
    47001: "data format error",
    48001: "api unauthorized",
    50002: "user limited",
    76001: "rid not found",
    76022: "could not use this rid, no permission",
    85079: "miniprogram has no online release",
    85096: "not allow include scancode_time field",
    85401: "time limit between 1min and 30d",
    85402: "invalid env_version",
    87007: "session_key is not existd or expired",
    87008: "invalid sig_method",
    87009: "invalid signature",
}


class WxError(Exception):
    """An API-level failure: rendered as HTTP 200 with {"errcode", "errmsg"}."""

    def __init__(self, errcode: int, errmsg: str | None = None) -> None:
        self.errcode = errcode
        self.errmsg = errmsg or ERRMSG.get(errcode, "unknown error")
        super().__init__(f"{self.errcode} {self.errmsg}")


def new_rid(now: float) -> str:
    """Three groups of 8 lowercase hex; like WeChat's, the first group is the unix time."""
    return f"{int(now) & 0xFFFFFFFF:08x}-{secrets.randbits(32):08x}-{secrets.randbits(32):08x}"
