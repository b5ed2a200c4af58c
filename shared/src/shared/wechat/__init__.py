"""Async WeChat mini program API client, its typed errors and the legacy data crypto."""

from shared.wechat.client import PhoneInfo, Session, WeChatClient, image_type
from shared.wechat.crypto import (
    checksession_signature,
    decrypt_data,
    encrypt_data,
    raw_data_signature,
)
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
    "checksession_signature",
    "decrypt_data",
    "encrypt_data",
    "error_for",
    "image_type",
    "raw_data_signature",
]
