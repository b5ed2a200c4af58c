"""Legacy encryptedData decryption and the session-key signatures (wechat-api.md §8, §9, §12)."""

from __future__ import annotations

import base64
import os

import pytest

from shared.wechat import (
    WeChatDataError,
    WeChatWatermarkMismatch,
    checksession_signature,
    decrypt_data,
    encrypt_data,
    raw_data_signature,
)

APPID = "wx5eb1d2c3a4f60789"


def _key() -> str:
    return base64.b64encode(os.urandom(16)).decode()


def _payload(appid: str = APPID) -> dict[str, object]:
    return {
        "phoneNumber": "13800138000",
        "purePhoneNumber": "13800138000",
        "countryCode": "86",
        "watermark": {"timestamp": 1_800_000_000, "appid": appid},
    }


def test_encrypted_data_round_trips_with_the_session_key() -> None:
    key = _key()
    encrypted, iv = encrypt_data(key, _payload())
    assert decrypt_data(key, encrypted, iv, appid=APPID) == _payload()


def test_non_ascii_payload_round_trips() -> None:
    key = _key()
    payload = {"nickName": "张伟", "watermark": {"appid": APPID, "timestamp": 1}}
    encrypted, iv = encrypt_data(key, payload)
    assert decrypt_data(key, encrypted, iv, appid=APPID)["nickName"] == "张伟"


def test_data_for_another_mini_program_is_refused() -> None:
    key = _key()
    encrypted, iv = encrypt_data(key, _payload(appid="wx0000000000000000"))
    with pytest.raises(WeChatWatermarkMismatch) as caught:
        decrypt_data(key, encrypted, iv, appid=APPID)
    assert caught.value.code == "wechat_watermark_mismatch"


def test_data_without_a_watermark_is_refused() -> None:
    key = _key()
    encrypted, iv = encrypt_data(key, {"phoneNumber": "13800138000"})
    with pytest.raises(WeChatWatermarkMismatch):
        decrypt_data(key, encrypted, iv, appid=APPID)


def test_wrong_session_key_is_refused() -> None:
    encrypted, iv = encrypt_data(_key(), _payload())
    with pytest.raises(WeChatDataError) as caught:
        decrypt_data(_key(), encrypted, iv, appid=APPID)
    assert caught.value.code in {"wechat_data_invalid", "wechat_watermark_mismatch"}


@pytest.mark.parametrize(
    ("session_key", "data", "iv"),
    [
        ("not base64!", "AAAA", "AAAAAAAAAAAAAAAAAAAAAA=="),
        (base64.b64encode(b"short").decode(), "AAAA", "AAAAAAAAAAAAAAAAAAAAAA=="),
        (base64.b64encode(bytes(16)).decode(), "AAAA", "AAAAAAAAAAAAAAAAAAAAAA=="),
        (base64.b64encode(bytes(16)).decode(), base64.b64encode(bytes(32)).decode(), "AAAA"),
    ],
)
def test_malformed_inputs_raise_a_typed_error(session_key: str, data: str, iv: str) -> None:
    with pytest.raises(WeChatDataError) as caught:
        decrypt_data(session_key, data, iv, appid=APPID)
    assert caught.value.status == 400


def test_third_party_phone_vector_decrypts() -> None:
    # wechat-api.md §12.4 (caiguanhao/wechatslim wechat_test.go), verbatim.
    payload = decrypt_data(
        "qJMcNH17/cfQOf7HKlScvw==",
        "S+5IGXxdaFfZxvhaIFuqKVtbQJiNJxod+CYIOkR1PSENfK7rJTLJuSilBRrGWihNBZJr7AYHJn824sjkzMdvRv6k"
        "Diu8QB7PHntGHZayzgQy9/tGqcPtZ67kxxL/QO92HTmaKkqFNZk0nUIMwqJ+eeLXtJKKpvBUi83a++Hgbz4fDuZS"
        "H6vpvXq6YE7iM6ZDgVrSO6MwO/CClcrFgVXDGw==",
        "bH0eOEspJ+FrJ2eWXmmarQ==",
        appid="wx0000000000000000",
    )
    assert payload == {
        "phoneNumber": "12345678901",
        "purePhoneNumber": "12345678901",
        "countryCode": "86",
        "watermark": {"timestamp": 1600000000, "appid": "wx0000000000000000"},
    }


def test_third_party_phone_vector_is_refused_for_our_appid() -> None:
    with pytest.raises(WeChatWatermarkMismatch):
        decrypt_data(
            "qJMcNH17/cfQOf7HKlScvw==",
            "S+5IGXxdaFfZxvhaIFuqKVtbQJiNJxod+CYIOkR1PSENfK7rJTLJuSilBRrGWihNBZJr7AYHJn824sjkzMdvRv6k"
            "Diu8QB7PHntGHZayzgQy9/tGqcPtZ67kxxL/QO92HTmaKkqFNZk0nUIMwqJ+eeLXtJKKpvBUi83a++Hgbz4fDuZS"
            "H6vpvXq6YE7iM6ZDgVrSO6MwO/CClcrFgVXDGw==",
            "bH0eOEspJ+FrJ2eWXmmarQ==",
            appid=APPID,
        )


def test_hmac_signature_is_keyed_with_the_session_key_text() -> None:
    # wechat-api.md §12.3 (official http-signature page).
    key = "o0q0otL8aEzpcZL/FT9WsQ=="
    assert checksession_signature(key, '{"foo":"bar"}') == (
        "654571f79995b2ce1e149e53c0a33dc39c0a74090db514261454e8dbe432aa0b"
    )
    assert checksession_signature(key) == (
        "46e043c5525c2d817c44be603d30837a808a1d930d038f6fdc3e62a201fed128"
    )


def test_raw_data_signature_matches_the_official_vector() -> None:
    # wechat-api.md §12.2.
    raw = (
        '{"nickName":"Band","gender":1,"language":"zh_CN","city":"Guangzhou","province":'
        '"Guangdong","country":"CN","avatarUrl":"http://wx.qlogo.cn/mmopen/vi_32/1vZvI39NWFQ9XM4Lt'
        'QpFrQJ1xlgZxx3w7bQxKARol6503Iuswjjn6nIGBiaycAjAtpujxyzYsrztuuICqIM5ibXQ/0"}'
    )
    assert raw_data_signature(raw, "HyVFkGl5F5OQWJZZaNzBBg==") == (
        "75e81ceda165f4ffa64f4068af58c64b8f54b88c"
    )
