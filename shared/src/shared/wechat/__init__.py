"""Async WeChat mini program API client and its typed errors."""

from shared.wechat.client import PhoneInfo, Session, WeChatClient, image_type
from shared.wechat.errors import (
    WeChatAuthFailed,
    WeChatBusy,
    WeChatCodeBlocked,
    WeChatDataError,
    WeChatError,
    WeChatInvalidArgument,
    WeChatInvalidCode,
    WeChatRateLimited,
    WeChatUnavailable,
    WeChatWatermarkMismatch,
    error_for,
)

__all__ = [
    "PhoneInfo",
    "Session",
    "WeChatAuthFailed",
    "WeChatBusy",
    "WeChatClient",
    "WeChatCodeBlocked",
    "WeChatDataError",
    "WeChatError",
    "WeChatInvalidArgument",
    "WeChatInvalidCode",
    "WeChatRateLimited",
    "WeChatUnavailable",
    "WeChatWatermarkMismatch",
    "error_for",
    "image_type",
]
