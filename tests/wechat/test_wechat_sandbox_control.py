"""The test-only control API under /__sandbox/: seeded data, validation, clock, reset."""

from __future__ import annotations

import time
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from wechat_testkit import APPID, SECRET, ZHANG, Sandbox

from shared.clock import FakeClock
from wechat_sandbox import STATE, SandboxConfig, create_app


async def test_sandbox_starts_with_the_default_app_and_demo_users(sandbox: Sandbox) -> None:
    apps = (await sandbox.control("GET", "apps"))["apps"]
    assert [a["appid"] for a in apps] == [APPID]
    assert "secret" not in apps[0]
    assert "pages/login/login" in apps[0]["pages"]
    users = (await sandbox.control("GET", "users"))["users"]
    nicknames = {u["nickname"] for u in users}
    assert {"张伟", "Alice Chen"} <= nicknames
    for user in users:
        assert len(user["openid"]) == 28
        assert user["avatar_url"].startswith("data:image/svg+xml;base64,")


def test_demo_users_are_stable_across_restarts() -> None:
    a, b = create_app(config=SandboxConfig()), create_app(config=SandboxConfig())
    assert list(a[STATE].users) == list(b[STATE].users)


async def test_a_registered_app_and_user_can_log_in(
    sandbox: Sandbox,
) -> None:
    app = {"appid": "wx1111111111111111", "secret": "d" * 32, "open_platform_bound": True}
    created = await sandbox.control("POST", "apps", app, expect=201)
    assert created["open_platform_bound"] is True
    await sandbox.control("POST", "apps", app, expect=200)  # registering again updates
    user = await sandbox.control("POST", "users", {"nickname": "Carol"}, expect=201)
    assert user["openid"].startswith("o")
    assert len(user["openid"]) == 28
    assert user["phone"] is None
    minted = await sandbox.control(
        "POST", "login-code", {"appid": app["appid"], "openid": user["openid"]}
    )
    assert len(minted["code"]) == 32
    assert minted["expires_in"] == 300


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("apps", {"appid": "not-an-appid", "secret": "d" * 32}, "appid"),
        ("apps", {"appid": "wx1111111111111111", "secret": "d" * 32, "extra": 1}, "extra"),
        ("apps", {"appid": "wx1111111111111111", "secret": "d" * 32, "pages": ["/x"]}, "pages.0"),
        (
            "apps",
            {"appid": "wx1111111111111111", "secret": "d" * 32, "open_platform_bound": "yes"},
            "open_platform_bound",
        ),
        ("users", {"nickname": ""}, "nickname"),
        ("users", {"phone": "call me"}, "phone"),
        ("login-code", {"appid": APPID}, "openid"),
        ("faults", {"count": 2}, ""),
        ("faults", {"errcode": 0}, ""),
        ("faults", {"errcode": -1, "count": 0}, "count"),
        ("clock/advance", {"seconds": -5}, "seconds"),
        ("scan", {}, ""),
        ("scan", {"payload": "x", "image_base64": "y"}, ""),
    ],
)
async def test_bad_control_input_is_a_json_400_naming_the_field(
    sandbox: Sandbox, path: str, body: dict[str, Any], field: str
) -> None:
    result = await sandbox.control("POST", path, body, expect=400)
    error = result["error"]
    assert error["code"] == "invalid_request"
    assert error["request_id"]
    assert field in {d["field"] for d in error["details"]}


async def test_malformed_control_json_is_a_400(sandbox: Sandbox) -> None:
    status, content_type, body = await sandbox.raw(
        "POST", "/__sandbox/users", data=b'{"nickname": '
    )
    assert status == 400
    assert content_type.startswith("application/json")
    assert b"malformed_json" in body
    assert b"Traceback" not in body


@pytest.mark.parametrize(
    "body",
    [{"appid": "wx0000000000000000", "openid": ZHANG}, {"appid": APPID, "openid": "o" * 28}],
)
async def test_minting_for_an_unknown_app_or_user_is_a_404(
    sandbox: Sandbox, body: dict[str, str]
) -> None:
    for path in ("login-code", "phone-code"):
        result = await sandbox.control("POST", path, body, expect=404)
        assert result["error"]["code"] == "not_found"


async def test_unknown_control_routes_and_methods_answer_json(sandbox: Sandbox) -> None:
    missing = await sandbox.control("GET", "nothing", expect=404)
    assert missing["error"]["code"] == "not_found"
    wrong = await sandbox.control("PUT", "apps", expect=405)
    assert wrong["error"]["code"] == "method_not_allowed"


async def test_clock_advance_moves_the_injected_clock(sandbox: Sandbox, clock: FakeClock) -> None:
    before = clock.now()
    result = await sandbox.control("POST", "clock/advance", {"seconds": 90})
    assert result["now"] == clock.now() == before + 90
    assert (await sandbox.control("GET", "clock"))["now"] == before + 90


async def test_clock_advance_works_on_a_sandbox_running_on_system_time() -> None:
    server = TestServer(create_app())
    await server.start_server()
    try:
        async with aiohttp.ClientSession() as http:
            url = server.make_url("/__sandbox/clock/advance")
            async with http.post(url, json={"seconds": 3600}) as resp:
                now = (await resp.json())["now"]
        assert now >= time.time() + 3500
    finally:
        await server.close()


async def test_reset_forgets_everything_but_the_seeded_data(sandbox: Sandbox) -> None:
    await sandbox.register_app("wx2222222222222222", "e" * 32)
    await sandbox.control("POST", "users", {"nickname": "Dave"}, expect=201)
    code = await sandbox.login_code()
    await sandbox.fault(errcode=-1, count=None)
    await sandbox.configure(reused_code_errcode=40029)
    assert await sandbox.control("POST", "reset") == {"reset": True}
    assert [a["appid"] for a in (await sandbox.control("GET", "apps"))["apps"]] == [APPID]
    assert "Dave" not in {u["nickname"] for u in (await sandbox.control("GET", "users"))["users"]}
    assert (await sandbox.control("GET", "faults"))["faults"] == []
    _status, _, body = await sandbox.raw(
        "GET",
        "/sns/jscode2session",
        params={
            "appid": APPID,
            "secret": SECRET,
            "js_code": code,
            "grant_type": "authorization_code",
        },
    )
    assert b'"errcode":40029' in body


async def test_config_view_hides_the_secret_and_reports_changes(sandbox: Sandbox) -> None:
    config = await sandbox.control("GET", "config")
    assert "secret" not in config
    assert config["reused_code_errcode"] == 40163
    changed = await sandbox.control("PATCH", "config", {"phone_quota": 0})
    assert changed["phone_quota_remaining"] == 0
    bad = await sandbox.control("PATCH", "config", {"reused_code_errcode": 1}, expect=400)
    assert bad["error"]["code"] == "invalid_request"


async def test_scanning_a_payload_that_is_not_a_mini_program_code_is_refused(
    sandbox: Sandbox,
) -> None:
    result = await sandbox.control("POST", "scan", {"payload": "https://example.com/"}, expect=400)
    assert result["error"]["code"] == "invalid_request"


def test_settings_come_from_the_environment() -> None:
    config = SandboxConfig.from_env(
        {
            "ML_WX_APPID": "wx3333333333333333",
            "ML_WX_SECRET": "f" * 32,
            "ML_SANDBOX_PORT": "9001",
            "ML_WX_PAGES": "pages/a/a, pages/b/b",
            "ML_WX_OPEN_PLATFORM_BOUND": "false",
        }
    )
    assert (config.appid, config.port, config.pages) == (
        "wx3333333333333333",
        9001,
        ("pages/a/a", "pages/b/b"),
    )
    assert config.open_platform_bound is False
    assert "f" * 32 not in repr(config)
    default = SandboxConfig.from_env({})
    assert (default.appid, default.port, default.host) == ("wx5eb1d2c3a4f60789", 8001, "127.0.0.1")
