"""WeChat errcodes become typed errors with stable codes, keeping the errcode."""

from __future__ import annotations

import pytest

from shared.errors import AppError, InvalidRequest, RateLimited, ServiceUnavailable
from shared.wechat import (
    WeChatAuthFailed,
    WeChatBusy,
    WeChatCodeBlocked,
    WeChatError,
    WeChatInvalidArgument,
    WeChatInvalidCode,
    WeChatRateLimited,
    error_for,
)


@pytest.mark.parametrize(
    ("errcode", "cls", "code", "status"),
    [
        (40029, WeChatInvalidCode, "wechat_invalid_code", 400),
        (40163, WeChatInvalidCode, "wechat_invalid_code", 400),
        (40226, WeChatCodeBlocked, "wechat_code_blocked", 403),
        (45009, WeChatRateLimited, "wechat_rate_limited", 429),
        (45011, WeChatRateLimited, "wechat_rate_limited", 429),
        (-1, WeChatBusy, "wechat_busy", 503),
        (40013, WeChatAuthFailed, "wechat_auth_failed", 502),
        (40125, WeChatAuthFailed, "wechat_auth_failed", 502),
        (40164, WeChatAuthFailed, "wechat_auth_failed", 502),
        (48001, WeChatAuthFailed, "wechat_auth_failed", 502),
        (40169, WeChatInvalidArgument, "wechat_invalid_argument", 502),
        (12345, WeChatError, "wechat_error", 502),
    ],
)
def test_errcode_maps_to_typed_error_with_stable_code(
    errcode: int, cls: type[WeChatError], code: str, status: int
) -> None:
    exc = error_for(errcode, "some text rid: 668f2aa4-51c08c03-3d141241")
    assert type(exc) is cls
    assert exc.code == code
    assert exc.status == status
    assert exc.errcode == errcode
    assert exc.rid == "668f2aa4-51c08c03-3d141241"
    assert isinstance(exc, AppError)


def test_typed_errors_are_also_the_shared_generic_errors() -> None:
    assert isinstance(error_for(45011), RateLimited)
    assert isinstance(error_for(-1), ServiceUnavailable)
    assert isinstance(error_for(40029), InvalidRequest)


def test_overrides_adjust_the_mapping_for_one_endpoint() -> None:
    exc = error_for(40013, overrides={40013: WeChatInvalidCode})
    assert isinstance(exc, WeChatInvalidCode)
    assert exc.errcode == 40013


def test_error_text_names_the_errcode_but_not_wechats_message() -> None:
    exc = error_for(40029, "invalid code rid: 668f2aa4-51c08c03-3d141241")
    assert "40029" in str(exc)
    assert "rid" not in exc.detail_message
