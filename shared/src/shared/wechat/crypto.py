"""Legacy encryptedData (AES-128-CBC, PKCS#7) and the session-key signatures.

The mini program receives `encryptedData` + `iv`; the key is the user's session_key
base64-decoded. The plaintext is JSON whose `watermark.appid` must be our own appid.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from shared.wechat.errors import WeChatDataError, WeChatWatermarkMismatch

__all__ = [
    "checksession_signature",
    "decrypt_data",
    "encrypt_data",
    "raw_data_signature",
]

_BLOCK_BITS = 128


def _b64(value: str, *, expect_len: int | None = None) -> bytes:
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise WeChatDataError("The encrypted data is not valid base64.") from exc
    if expect_len is not None and len(raw) != expect_len:
        raise WeChatDataError("The session key or IV has the wrong length.")
    return raw


def decrypt_data(session_key: str, encrypted_data: str, iv: str, *, appid: str) -> dict[str, Any]:
    """Decrypt legacy encryptedData; refuse bad keys, bad padding and foreign watermarks."""
    key = _b64(session_key, expect_len=16)
    nonce = _b64(iv, expect_len=16)
    ciphertext = _b64(encrypted_data)
    if not ciphertext or len(ciphertext) % 16:
        raise WeChatDataError("The encrypted data is not a whole number of AES blocks.")
    decryptor = Cipher(algorithms.AES(key), modes.CBC(nonce)).decryptor()
    padded = decryptor.update(ciphertext) + decryptor.finalize()
    unpadder = padding.PKCS7(_BLOCK_BITS).unpadder()
    try:
        plain = unpadder.update(padded) + unpadder.finalize()
        payload = json.loads(plain.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        # A wrong key almost always lands here: garbage padding or garbage JSON.
        raise WeChatDataError() from exc
    if not isinstance(payload, dict):
        raise WeChatDataError()
    watermark = payload.get("watermark")
    if not isinstance(watermark, dict) or watermark.get("appid") != appid:
        raise WeChatWatermarkMismatch()
    return payload


def encrypt_data(
    session_key: str, payload: Mapping[str, Any], *, iv: bytes | None = None
) -> tuple[str, str]:
    """Encrypt a payload the way WeChat does; returns (encryptedData, iv), both base64.

    Used by the sandbox to emit legacy data and by tests for round trips.
    """
    key = _b64(session_key, expect_len=16)
    nonce = iv if iv is not None else os.urandom(16)
    if len(nonce) != 16:
        raise ValueError("iv must be 16 bytes")
    plain = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    padder = padding.PKCS7(_BLOCK_BITS).padder()
    padded = padder.update(plain) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(nonce)).encryptor()
    ciphertext = encryptor.update(padded) + encryptor.finalize()
    return base64.b64encode(ciphertext).decode("ascii"), base64.b64encode(nonce).decode("ascii")


def checksession_signature(session_key: str, message: str = "") -> str:
    """hmac_sha256 keyed with the session_key *text* (not its decoded bytes), lowercase hex."""
    return hmac.new(
        session_key.encode("utf-8"), message.encode("utf-8"), hashlib.sha256
    ).hexdigest()


def raw_data_signature(raw_data: str, session_key: str) -> str:
    """sha1(rawData + session_key), the legacy getUserInfo signature."""
    return hashlib.sha1((raw_data + session_key).encode("utf-8"), usedforsecurity=False).hexdigest()
