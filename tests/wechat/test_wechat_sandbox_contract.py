"""The sandbox speaks WeChat's contract on the wire (wechat-api.md §1 and §13)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from wechat_testkit import APPID, SECRET, Sandbox

from shared.clock import FakeClock

ERRMSG = re.compile(r"^(?P<text>.+) rid: [0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}$")
JSON_TYPE = "application/json; encoding=utf-8"


async def _call(
    sandbox: Sandbox,
    method: str,
    path: str,
    *,
    params: dict[str, str] | None = None,
    data: bytes | None = None,
    json_body: Any = None,
) -> dict[str, Any]:
    status, content_type, body = await sandbox.raw(
        method, path, params=params, data=data, json_body=json_body
    )
    assert status == 200
    assert content_type == JSON_TYPE
    result: dict[str, Any] = json.loads(body)
    return result


async def _probe(sandbox: Sandbox, token: str) -> dict[str, Any]:
    """A protected call whose answer says whether the token passed: with a valid token, a
    made-up phone code is refused with 40029."""
    return await _call(
        sandbox,
        "POST",
        "/wxa/business/getuserphonenumber",
        params={"access_token": token},
        json_body={"code": "not-a-code"},
    )


def _assert_error(result: dict[str, Any], errcode: int, text: str | None = None) -> None:
    assert result["errcode"] == errcode, result
    match = ERRMSG.match(result["errmsg"])
    assert match, result
    if text is not None:
        assert match["text"] == text


def _token_params(**overrides: str) -> dict[str, str]:
    return {"grant_type": "client_credential", "appid": APPID, "secret": SECRET, **overrides}


@pytest.mark.parametrize(
    ("method", "path", "errcode", "text"),
    [
        ("POST", "/cgi-bin/token", 43001, "require GET method"),
        ("POST", "/sns/jscode2session", 43001, "require GET method"),
        ("DELETE", "/sns/jscode2session", 43001, "require GET method"),
        ("GET", "/cgi-bin/stable_token", 43002, "require POST method"),
        ("GET", "/wxa/getwxacodeunlimit", 43002, "require POST method"),
        ("PUT", "/wxa/business/getuserphonenumber", 43002, "require POST method"),
    ],
)
async def test_wrong_method_is_refused_with_http_200_and_an_errcode(
    sandbox: Sandbox, method: str, path: str, errcode: int, text: str
) -> None:
    _assert_error(await _call(sandbox, method, path), errcode, text)


@pytest.mark.parametrize(
    ("path", "data", "errcode"),
    [
        ("/wxa/business/getuserphonenumber", b"", 44002),
        ("/wxa/business/getuserphonenumber", b"code=abc", 47001),
        ("/wxa/business/getuserphonenumber", b"[1, 2]", 47001),
        ("/wxa/business/getuserphonenumber", b"[" * 5000, 47001),  # past the parser's recursion
        ("/wxa/getwxacodeunlimit", b"", 44002),
        ("/wxa/getwxacodeunlimit", b"scene=abc", 40169),
        ("/wxa/getwxacodeunlimit", b'{"page": "pages/login/login"}', 40169),
        ("/wxa/getwxacodeunlimit", b'{"scene": "a", "width": "big"}', 47001),
        ("/wxa/getwxacodeunlimit", b'{"scene": "a", "line_color": {"r": 300}}', 47001),
    ],
)
async def test_post_bodies_must_be_json_objects(
    sandbox: Sandbox, path: str, data: bytes, errcode: int
) -> None:
    token = await sandbox.token()
    result = await _call(sandbox, "POST", path, params={"access_token": token}, data=data)
    _assert_error(result, errcode)


async def test_phone_code_sent_as_a_query_parameter_is_an_invalid_code(sandbox: Sandbox) -> None:
    token = await sandbox.token()
    code = (await sandbox.phone_code())["code"]
    result = await _call(
        sandbox,
        "POST",
        "/wxa/business/getuserphonenumber",
        params={"access_token": token, "code": code},
        json_body={},
    )
    _assert_error(result, 40029, "invalid code")


@pytest.mark.parametrize(
    ("params", "errcode"),
    [
        ({}, 41001),
        ({"access_token": "not a token"}, 40014),
        ({"access_token": "12_" + "A" * 150}, 40001),
    ],
)
async def test_protected_endpoints_check_the_access_token(
    sandbox: Sandbox, params: dict[str, str], errcode: int
) -> None:
    result = await _call(sandbox, "POST", "/wxa/getwxacodeunlimit", params=params, json_body={})
    _assert_error(result, errcode)


async def test_a_token_expires_after_expires_in_with_42001(
    sandbox: Sandbox, clock: FakeClock
) -> None:
    token = await sandbox.token()
    clock.advance(7199)
    _assert_error(await _probe(sandbox, token), 40029)
    clock.advance(1)
    _assert_error(await _probe(sandbox, token), 42001)


async def test_a_new_token_leaves_the_previous_one_valid_for_300_seconds(
    sandbox: Sandbox, clock: FakeClock
) -> None:
    old = await sandbox.token()
    new = await sandbox.token()
    assert old != new
    assert re.fullmatch(r"\d{2}_[A-Za-z0-9_-]{140,}", new)
    clock.advance(299)
    for token in (old, new):
        _assert_error(await _probe(sandbox, token), 40029)
    clock.advance(1)
    _assert_error(
        await _probe(sandbox, old),
        40001,
        "invalid credential, access_token is invalid or not latest",
    )


async def test_token_success_carries_no_errcode_unless_configured(sandbox: Sandbox) -> None:
    plain = await _call(sandbox, "GET", "/cgi-bin/token", params=_token_params())
    assert set(plain) == {"access_token", "expires_in"}
    assert plain["expires_in"] == 7200
    await sandbox.configure(errcode_on_success=True)
    explicit = await _call(sandbox, "GET", "/cgi-bin/token", params=_token_params())
    assert explicit["errcode"] == 0


@pytest.mark.parametrize(
    ("params", "errcode"),
    [
        (_token_params(appid=""), 41002),
        (_token_params(secret=""), 41004),
        (_token_params(grant_type="password"), 40002),
        (_token_params(appid="wx0000000000000000"), 40013),
        (_token_params(secret="0" * 32), 40125),
    ],
)
async def test_token_endpoint_validates_its_parameters(
    sandbox: Sandbox, params: dict[str, str], errcode: int
) -> None:
    _assert_error(await _call(sandbox, "GET", "/cgi-bin/token", params=params), errcode)


async def test_token_daily_quota_answers_45009_until_the_next_day(
    sandbox: Sandbox, clock: FakeClock
) -> None:
    await sandbox.configure(token_daily_quota=2)
    for _ in range(2):
        await sandbox.token()
    result = await _call(sandbox, "GET", "/cgi-bin/token", params=_token_params())
    _assert_error(result, 45009)
    clock.advance(86_400)
    await sandbox.token()


@pytest.mark.parametrize(
    ("drop", "errcode"),
    [("appid", 41002), ("secret", 41004), ("js_code", 41008), ("grant_type", 40002)],
)
async def test_jscode2session_requires_all_parameters(
    sandbox: Sandbox, drop: str, errcode: int
) -> None:
    params = {
        "appid": APPID,
        "secret": SECRET,
        "js_code": await sandbox.login_code(),
        "grant_type": "authorization_code",
    }
    del params[drop]
    _assert_error(await _call(sandbox, "GET", "/sns/jscode2session", params=params), errcode)


async def test_jscode2session_success_omits_errcode(sandbox: Sandbox) -> None:
    params = {
        "appid": APPID,
        "secret": SECRET,
        "js_code": await sandbox.login_code(),
        "grant_type": "authorization_code",
    }
    result = await _call(sandbox, "GET", "/sns/jscode2session", params=params)
    assert set(result) == {"openid", "session_key", "unionid"}


async def _stable(sandbox: Sandbox, force: bool = False) -> dict[str, Any]:
    body = {"grant_type": "client_credential", "appid": APPID, "secret": SECRET}
    return await _call(
        sandbox, "POST", "/cgi-bin/stable_token", json_body=body | {"force_refresh": force}
    )


async def test_stable_token_is_reused_with_its_remaining_lifetime(
    sandbox: Sandbox, clock: FakeClock
) -> None:
    first = await _stable(sandbox)
    clock.advance(1000)
    second = await _stable(sandbox)
    assert second["access_token"] == first["access_token"]
    assert second["expires_in"] == 6200
    await sandbox.token()  # the /cgi-bin/token pool is separate
    clock.advance(6000)  # 200 s left: the next call rotates
    third = await _stable(sandbox)
    assert third["access_token"] != first["access_token"]
    assert third["expires_in"] == 7200


async def test_forced_stable_token_kills_the_old_one_at_once(
    sandbox: Sandbox, clock: FakeClock
) -> None:
    old = (await _stable(sandbox))["access_token"]
    new = (await _stable(sandbox, force=True))["access_token"]
    assert new != old
    again = (await _stable(sandbox, force=True))["access_token"]
    assert again == new  # forced calls under 30 s apart do not rotate
    _assert_error(await _probe(sandbox, old), 40001)


async def test_forced_stable_token_is_limited_per_day(sandbox: Sandbox, clock: FakeClock) -> None:
    for _ in range(20):
        await _stable(sandbox, force=True)
        clock.advance(31)
    _assert_error(await _stable(sandbox, force=True), 45009)
    assert "access_token" in await _stable(sandbox)


async def test_injected_ip_whitelist_error_names_the_caller(sandbox: Sandbox) -> None:
    await sandbox.fault(errcode=40164, path="/cgi-bin/token")
    result = await _call(sandbox, "GET", "/cgi-bin/token", params=_token_params())
    _assert_error(result, 40164)
    assert re.match(r"invalid ip \S+ ipv6 ::ffff:\S+, not in whitelist rid: ", result["errmsg"])


async def test_unlimited_fault_applies_until_cleared(sandbox: Sandbox) -> None:
    await sandbox.fault(errcode=48001, count=None)
    for _ in range(3):
        _assert_error(await _call(sandbox, "GET", "/cgi-bin/token", params=_token_params()), 48001)
    assert (await sandbox.control("DELETE", "faults")) == {"cleared": 1}
    assert "access_token" in await _call(sandbox, "GET", "/cgi-bin/token", params=_token_params())


async def test_rid_lookup_returns_the_failed_request_without_secrets(sandbox: Sandbox) -> None:
    token = await sandbox.token()
    failed = await _call(
        sandbox, "POST", "/wxa/getwxacodeunlimit", params={"access_token": token}, json_body={}
    )
    rid = failed["errmsg"].rsplit("rid: ", 1)[1]
    found = await _call(
        sandbox,
        "POST",
        "/cgi-bin/openapi/rid/get",
        params={"access_token": token},
        json_body={"rid": rid},
    )
    assert found["errcode"] == 0
    assert found["request"]["request_url"] == "/wxa/getwxacodeunlimit?access_token=%2A%2A%2A"
    assert token not in json.dumps(found)
    missing = await _call(
        sandbox,
        "POST",
        "/cgi-bin/openapi/rid/get",
        params={"access_token": token},
        json_body={"rid": "00000000-00000000-00000000"},
    )
    _assert_error(missing, 76001)


async def test_unknown_paths_answer_a_json_404(sandbox: Sandbox) -> None:
    status, content_type, body = await sandbox.raw("GET", "/cgi-bin/nothing")
    assert status == 404
    assert content_type.startswith("application/json")
    assert json.loads(body)["error"]["code"] == "not_found"
