"""The phone number: the button code flow through the client, against the sandbox."""

from __future__ import annotations

import pytest
from wechat_testkit import ALICE, APPID, BOB, SECRET, ZHANG, Sandbox

from shared.wechat import WeChatClient, WeChatInvalidCode


async def test_phone_code_yields_the_number_with_our_watermark(
    sandbox: Sandbox, wechat: WeChatClient
) -> None:
    minted = await sandbox.phone_code(ZHANG)
    assert len(minted["code"]) == 64
    phone = await wechat.get_phone_number(APPID, SECRET, minted["code"], openid=ZHANG)
    assert phone.phone_number == phone.pure_phone_number == "13800138000"
    assert phone.country_code == "86"
    assert phone.watermark_appid == APPID
    assert phone.watermark_timestamp == int(sandbox.state.clock.now())
    assert "13800138000" not in repr(phone)


async def test_foreign_number_carries_its_country_code(
    sandbox: Sandbox, wechat: WeChatClient
) -> None:
    phone = await wechat.get_phone_number(APPID, SECRET, (await sandbox.phone_code(ALICE))["code"])
    assert phone.pure_phone_number == "4155550123"
    assert phone.phone_number == "+1 4155550123"
    assert phone.country_code == "1"


async def test_numeric_country_code_is_accepted(sandbox: Sandbox, wechat: WeChatClient) -> None:
    await sandbox.configure(country_code_as_number=True)
    phone = await wechat.get_phone_number(APPID, SECRET, (await sandbox.phone_code())["code"])
    assert phone.country_code == "86"


async def test_phone_code_is_single_use(sandbox: Sandbox, wechat: WeChatClient) -> None:
    code = (await sandbox.phone_code())["code"]
    await wechat.get_phone_number(APPID, SECRET, code)
    with pytest.raises(WeChatInvalidCode) as caught:
        await wechat.get_phone_number(APPID, SECRET, code)
    assert caught.value.errcode == 40029


async def test_phone_code_expires_after_five_minutes(
    sandbox: Sandbox, wechat: WeChatClient
) -> None:
    code = (await sandbox.phone_code())["code"]
    await sandbox.advance(300)
    with pytest.raises(WeChatInvalidCode) as caught:
        await wechat.get_phone_number(APPID, SECRET, code)
    assert caught.value.errcode == 40029


async def test_phone_code_of_another_app_is_an_invalid_code(
    sandbox: Sandbox, wechat: WeChatClient
) -> None:
    other_appid, other_secret = "wx00000000000000bb", "c" * 32
    await sandbox.register_app(other_appid, other_secret)
    code = (await sandbox.phone_code(appid=other_appid))["code"]
    with pytest.raises(WeChatInvalidCode) as caught:
        await wechat.get_phone_number(APPID, SECRET, code)
    assert caught.value.errcode == 40013


async def test_phone_code_checked_against_another_openid_is_refused(
    sandbox: Sandbox, wechat: WeChatClient
) -> None:
    code = (await sandbox.phone_code(ZHANG))["code"]
    with pytest.raises(WeChatInvalidCode):
        await wechat.get_phone_number(APPID, SECRET, code, openid=ALICE)


async def test_exhausted_phone_quota_answers_errno_to_the_mini_program(
    sandbox: Sandbox, wechat: WeChatClient
) -> None:
    await sandbox.configure(phone_quota=1)
    await wechat.get_phone_number(APPID, SECRET, (await sandbox.phone_code())["code"])
    refused = await sandbox.phone_code()
    assert refused["errno"] == 1400001
    assert "code" not in refused


async def test_user_without_a_phone_gets_no_phone_code(sandbox: Sandbox) -> None:
    refused = await sandbox.control(
        "POST", "phone-code", {"appid": APPID, "openid": BOB}, expect=409
    )
    assert refused["error"]["code"] == "conflict"
