"""Async WeChat mini program API client and its typed errors."""

from shared.wechat.client import MiniProgramLink, PhoneInfo, Session, WeChatClient, image_type
from shared.wechat.errors import (
    WeChatAuthFailed,
    WeChatBusy,
    WeChatCodeBlocked,
    WeChatDataError,
    WeChatError,
    WeChatInvalidArgument,
    WeChatInvalidCode,
    WeChatLinkNotAllowed,
    WeChatRateLimited,
    WeChatUnavailable,
    WeChatWatermarkMismatch,
    error_for,
)

__all__ = [
    "MiniProgramLink",
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
    "WeChatLinkNotAllowed",
    "WeChatRateLimited",
    "WeChatUnavailable",
    "WeChatWatermarkMismatch",
    "error_for",
    "image_type",
]
