"""code2session through the client, against the sandbox."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import structlog
from wechat_testkit import APPID, RISKY, SECRET, ZHANG, Sandbox

from shared.wechat import (
    WeChatAuthFailed,
    WeChatBusy,
    WeChatClient,
    WeChatCodeBlocked,
    WeChatInvalidCode,
    WeChatRateLimited,
    WeChatUnavailable,
)


async def test_code2session_returns_openid_session_key_and_unionid(
    sandbox: Sandbox, wechat: WeChatClient
) -> None:
    code = await sandbox.login_code(ZHANG)
    session = await wechat.code2session(APPID, SECRET, code)
    assert session.openid == ZHANG
    assert session.unionid == sandbox.state.users[ZHANG].unionid
    assert len(session.session_key) == 24
    assert session.session_key not in repr(session)


async def test_unionid_is_absent_when_the_app_has_no_open_platform_binding(
    sandbox: Sandbox, wechat: WeChatClient
) -> None:
    appid, secret = "wx0123456789abcdef", "a" * 32
    await sandbox.register_app(appid, secret, open_platform_bound=False)
    code = await sandbox.login_code(ZHANG, appid=appid)
    session = await wechat.code2session(appid, secret, code)
    assert session.openid == ZHANG
    assert session.unionid is None


async def test_a_login_code_can_be_redeemed_only_once(
    sandbox: Sandbox, wechat: WeChatClient
) -> None:
    code = await sandbox.login_code()
    await wechat.code2session(APPID, SECRET, code)
    with pytest.raises(WeChatInvalidCode) as caught:
        await wechat.code2session(APPID, SECRET, code)
    assert caught.value.errcode == 40163
    assert caught.value.code == "wechat_invalid_code"


async def test_reused_code_answers_40029_when_the_sandbox_is_so_configured(
    sandbox: Sandbox, wechat: WeChatClient
) -> None:
    await sandbox.configure(reused_code_errcode=40029)
    code = await sandbox.login_code()
    await wechat.code2session(APPID, SECRET, code)
    with pytest.raises(WeChatInvalidCode) as caught:
        await wechat.code2session(APPID, SECRET, code)
    assert caught.value.errcode == 40029


async def test_a_login_code_expires_after_five_minutes(
    sandbox: Sandbox, wechat: WeChatClient
) -> None:
    fresh, stale = await sandbox.login_code(), await sandbox.login_code()
    await sandbox.advance(299)
    assert (await wechat.code2session(APPID, SECRET, fresh)).openid == ZHANG
    await sandbox.advance(1)
    with pytest.raises(WeChatInvalidCode) as caught:
        await wechat.code2session(APPID, SECRET, stale)
    assert caught.value.errcode == 40029


async def test_unknown_code_and_other_apps_code_are_invalid(
    sandbox: Sandbox, wechat: WeChatClient
) -> None:
    other_appid, other_secret = "wx00000000000000aa", "b" * 32
    await sandbox.register_app(other_appid, other_secret)
    foreign = await sandbox.login_code(appid=other_appid)
    for code in ("0" * 32, foreign):
        with pytest.raises(WeChatInvalidCode) as caught:
            await wechat.code2session(APPID, SECRET, code)
        assert caught.value.errcode == 40029


async def test_wrong_secret_is_an_auth_failure(sandbox: Sandbox, wechat: WeChatClient) -> None:
    code = await sandbox.login_code()
    with pytest.raises(WeChatAuthFailed) as caught:
        await wechat.code2session(APPID, "f" * 32, code)
    assert caught.value.errcode == 40125


async def test_risky_user_login_is_blocked(sandbox: Sandbox, wechat: WeChatClient) -> None:
    code = await sandbox.login_code(RISKY)
    with pytest.raises(WeChatCodeBlocked) as caught:
        await wechat.code2session(APPID, SECRET, code)
    assert caught.value.errcode == 40226
    assert caught.value.status == 403


async def test_more_than_100_calls_a_minute_for_one_user_is_rate_limited(
    sandbox: Sandbox, wechat: WeChatClient
) -> None:
    code = await sandbox.login_code()
    await wechat.code2session(APPID, SECRET, code)
    for _ in range(99):
        with pytest.raises(WeChatInvalidCode):
            await wechat.code2session(APPID, SECRET, code)
    with pytest.raises(WeChatRateLimited) as caught:
        await wechat.code2session(APPID, SECRET, await sandbox.login_code())
    assert caught.value.errcode == 45011
    assert caught.value.status == 429
    await sandbox.advance(60)
    assert (await wechat.code2session(APPID, SECRET, await sandbox.login_code())).openid == ZHANG


async def test_busy_answers_are_retried_with_backoff(
    sandbox: Sandbox, wechat: WeChatClient
) -> None:
    await sandbox.fault(errcode=-1, count=2, path="/sns/jscode2session")
    session = await wechat.code2session(APPID, SECRET, await sandbox.login_code())
    assert session.openid == ZHANG
    assert sandbox.calls("/sns/jscode2session") == 3


async def test_persistent_busy_surfaces_as_wechat_busy(
    sandbox: Sandbox, wechat: WeChatClient
) -> None:
    await sandbox.fault(errcode=-1, count=3, path="/sns/jscode2session")
    with pytest.raises(WeChatBusy) as caught:
        await wechat.code2session(APPID, SECRET, await sandbox.login_code())
    assert caught.value.code == "wechat_busy"
    assert sandbox.calls("/sns/jscode2session") == 3


async def test_injected_quota_errors_map_to_rate_limited(
    sandbox: Sandbox, wechat: WeChatClient
) -> None:
    await sandbox.fault(errcode=45011, path="/sns/jscode2session")
    with pytest.raises(WeChatRateLimited):
        await wechat.code2session(APPID, SECRET, await sandbox.login_code())
    assert sandbox.calls("/sns/jscode2session") == 1  # not retried


async def test_a_timed_out_code_redemption_is_not_retried(
    sandbox: Sandbox, make_client: Callable[..., WeChatClient]
) -> None:
    wechat = make_client(timeout=0.05)
    await sandbox.fault(latency_ms=300, path="/sns/jscode2session")
    with pytest.raises(WeChatUnavailable) as caught:
        await wechat.code2session(APPID, SECRET, await sandbox.login_code())
    assert caught.value.code == "wechat_unreachable"
    assert sandbox.calls("/sns/jscode2session") == 1


async def test_success_with_an_explicit_errcode_zero_is_accepted(
    sandbox: Sandbox, wechat: WeChatClient
) -> None:
    await sandbox.configure(errcode_on_success=True)
    session = await wechat.code2session(APPID, SECRET, await sandbox.login_code())
    assert session.openid == ZHANG


async def test_secrets_never_reach_the_logs(sandbox: Sandbox, wechat: WeChatClient) -> None:
    code = await sandbox.login_code()
    await sandbox.fault(errcode=-1, path="/sns/jscode2session")
    with structlog.testing.capture_logs() as logs:
        session = await wechat.code2session(APPID, SECRET, code)
        await wechat.get_wxacode_unlimit(APPID, SECRET, scene="s")  # a token-protected call
        with pytest.raises(WeChatInvalidCode):
            await wechat.code2session(APPID, SECRET, code)
    token = await wechat.access_token(APPID, SECRET)
    assert logs
    text = repr(logs)
    for secret in (SECRET, code, session.session_key, token):
        assert secret not in text
