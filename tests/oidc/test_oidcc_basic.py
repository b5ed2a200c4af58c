"""The negative and edge cases of the OpenID Foundation's basic OP conformance plan
(oidcc-basic-certification-test-plan), each test named after the plan's module it follows.
docs/oidc-conformance.md lists every module of the plan and what covers it."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from minilogin_testkit import Stack
from oidc_testkit import (
    Authorized,
    Client,
    authorization_params,
    authorize,
    id_claims,
    log_in_through_login,
    register,
    token_request,
)

from devstack.seed import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET


def demo(stack: Stack) -> Client:
    return Client(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, stack.redirect_uri)


async def _redeem(stack: Stack, client: Client, login: Authorized, **kw: str) -> tuple[int, Any]:
    form = {
        "grant_type": "authorization_code",
        "code": login.code,
        "code_verifier": login.verifier,
        "redirect_uri": client.redirect_uri,
        **kw,
    }
    status, body, _ = await token_request(stack, client, form)
    return status, body


async def _login(stack: Stack, client: Client, **extra: str) -> Authorized:
    user = (await stack.users())[0]
    params, verifier = authorization_params(client, **extra)
    return await log_in_through_login(stack, client, user["openid"], params, verifier)


def _error_redirect(location: str | None, client: Client) -> dict[str, str]:
    """The query of an error sent back to the site, which must carry state and iss."""
    assert location is not None
    assert location.startswith(client.redirect_uri + "?")
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


async def test_oidcc_server(stack: Stack) -> None:
    client = demo(stack)
    login = await _login(stack, client)
    status, tokens = await _redeem(stack, client, login)
    assert status == 200, tokens
    assert tokens["token_type"] == "Bearer"
    header = jwt.get_unverified_header(tokens["id_token"])
    assert header["alg"] == "RS256"
    claims = await id_claims(stack, tokens["id_token"], DEMO_CLIENT_ID)  # kid is in the JWKS
    assert claims["iss"] == stack.public
    assert claims["aud"] == DEMO_CLIENT_ID  # a single value, not a list
    assert claims["nonce"] == login.nonce
    assert claims["exp"] > claims["iat"]
    assert isinstance(claims["auth_time"], int)
    assert claims["sub"]
    # RFC 9207: the answer names its issuer, as discovery says it will.
    assert parse_qs(urlsplit(login.redirect_url).query)["iss"] == [stack.public]


async def test_oidcc_server_client_secret_post(stack: Stack) -> None:
    post = Client(DEMO_CLIENT_ID, None, stack.redirect_uri)  # no Basic header
    login = await _login(stack, demo(stack))
    status, tokens = await _redeem(
        stack, post, login, client_id=DEMO_CLIENT_ID, client_secret=DEMO_CLIENT_SECRET
    )
    assert status == 200, tokens


async def test_oidcc_response_type_missing(stack: Stack) -> None:
    params, _ = authorization_params(demo(stack), response_type="")
    status, location = await authorize(stack, params)
    assert status == 302
    answer = _error_redirect(location, demo(stack))
    assert answer["error"] in ("invalid_request", "unsupported_response_type")
    assert answer["state"] == params["state"]
    assert answer["iss"] == stack.public


async def test_oidcc_ensure_pkce_is_required(stack: Stack) -> None:
    params, _ = authorization_params(demo(stack), code_challenge="", code_challenge_method="")
    status, location = await authorize(stack, params)
    assert status == 302
    assert _error_redirect(location, demo(stack))["error"] == "invalid_request"


async def test_oidcc_ensure_registered_redirect_uri(stack: Stack) -> None:
    params, _ = authorization_params(demo(stack), redirect_uri="https://evil.example/cb")
    status, location = await authorize(stack, params)
    # Never sent to an unregistered address: our page explains it instead.
    assert status == 400
    assert location is None


@pytest.mark.parametrize("request_param", ["request", "request_uri"])
async def test_oidcc_unsigned_request_object_rejected_as_unsupported(
    stack: Stack, request_param: str
) -> None:
    unsigned = jwt.encode({"client_id": DEMO_CLIENT_ID}, "", algorithm="none")
    value = unsigned if request_param == "request" else "https://evil.example/req.jwt"
    params, _ = authorization_params(demo(stack), **{request_param: value})
    status, location = await authorize(stack, params)
    assert status == 302
    answer = _error_redirect(location, demo(stack))
    assert answer["error"] == f"{request_param}_not_supported"


async def test_oidcc_prompt_none_not_logged_in(stack: Stack) -> None:
    # There is no MiniLogin session to reuse: every login is a scan.
    params, _ = authorization_params(demo(stack), prompt="none")
    status, location = await authorize(stack, params)
    assert status == 302
    answer = _error_redirect(location, demo(stack))
    assert answer["error"] == "login_required"
    assert answer["state"] == params["state"]


@pytest.mark.parametrize(
    "extra",
    [
        pytest.param({"display": "page"}, id="oidcc-display-page"),
        pytest.param({"display": "popup"}, id="oidcc-display-popup"),
        pytest.param({"prompt": "login"}, id="oidcc-prompt-login"),
        pytest.param({"max_age": "1"}, id="oidcc-max-age-1"),
        pytest.param({"max_age": "10000"}, id="oidcc-max-age-10000"),
        pytest.param({"extra_thing": "value"}, id="oidcc-ensure-request-with-unknown-parameter"),
        pytest.param({"login_hint": "someone"}, id="oidcc-login-hint"),
        pytest.param({"ui_locales": "zh-CN en"}, id="oidcc-ui-locales"),
        pytest.param({"claims_locales": "en"}, id="oidcc-claims-locales"),
        pytest.param({"acr_values": "1 2"}, id="oidcc-ensure-request-with-acr-values"),
        pytest.param(
            {"claims": '{"userinfo": {"name": {"essential": true}}}'}, id="oidcc-claims-essential"
        ),
        pytest.param({"nonce": ""}, id="oidcc-ensure-request-without-nonce-succeeds"),
    ],
)
async def test_oidcc_requests_that_must_log_in(stack: Stack, extra: dict[str, str]) -> None:
    client = demo(stack)
    login = await _login(stack, client, **extra)
    assert login.state.startswith("st-")
    status, tokens = await _redeem(stack, client, login)
    assert status == 200, tokens
    claims = await id_claims(stack, tokens["id_token"], DEMO_CLIENT_ID)
    if "nonce" in extra:
        assert "nonce" not in claims
    if "max_age" in extra:
        assert claims["auth_time"] <= claims["iat"]  # a fresh login meets any max_age
    if "claims" in extra:
        async with stack.http.get(
            stack.url("/oauth/userinfo"),
            headers={"Authorization": f"Bearer {tokens['access_token']}"},
        ) as r:
            assert (await r.json())["name"] == "Conformance"


async def test_oidcc_id_token_hint(stack: Stack) -> None:
    client = demo(stack)
    first = await _login(stack, client)
    _, tokens = await _redeem(stack, client, first)
    again = await _login(stack, client, id_token_hint=tokens["id_token"])
    assert (await _redeem(stack, client, again))[0] == 200


@pytest.mark.parametrize(
    ("scope", "present", "absent"),
    [
        pytest.param("openid profile", {"name"}, {"phone_number"}, id="profile"),
        pytest.param(
            "openid phone", {"phone_number", "phone_number_verified"}, {"name"}, id="phone"
        ),
        pytest.param("openid email", set(), {"name", "phone_number", "email"}, id="email"),
        pytest.param("openid address", set(), {"name", "address"}, id="address"),
        pytest.param(
            "openid profile email address phone",
            {"name", "phone_number"},
            {"email", "address"},
            id="all",
        ),
        pytest.param(
            "phone profile openid", {"name", "phone_number"}, set(), id="other-scope-order"
        ),
    ],
)
async def test_oidcc_scope(stack: Stack, scope: str, present: set[str], absent: set[str]) -> None:
    client = demo(stack)
    login = await _login(stack, client, scope=scope)
    status, tokens = await _redeem(stack, client, login)
    assert status == 200, tokens
    async with stack.http.get(
        stack.url("/oauth/userinfo"), headers={"Authorization": f"Bearer {tokens['access_token']}"}
    ) as r:
        info = await r.json()
    assert present <= set(info)
    assert not absent & set(info)


@pytest.mark.parametrize("how", ["get", "post-header", "post-body"])
async def test_oidcc_userinfo(stack: Stack, how: str) -> None:
    client = demo(stack)
    _, tokens = await _redeem(stack, client, await _login(stack, client))
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    if how == "get":
        request = stack.http.get(stack.url("/oauth/userinfo"), headers=bearer)
    elif how == "post-header":
        request = stack.http.post(stack.url("/oauth/userinfo"), headers=bearer)
    else:
        request = stack.http.post(
            stack.url("/oauth/userinfo"), data={"access_token": tokens["access_token"]}
        )
    async with request as r:
        assert r.status == 200
        info = await r.json()
    assert info["sub"] == (await id_claims(stack, tokens["id_token"], DEMO_CLIENT_ID))["sub"]


async def test_oidcc_codereuse(stack: Stack) -> None:
    client = demo(stack)
    login = await _login(stack, client)
    status, tokens = await _redeem(stack, client, login)
    assert status == 200
    status, body = await _redeem(stack, client, login)
    assert (status, body["error"]) == (400, "invalid_grant")
    # RFC 6749 section 4.1.2: what the code gave is revoked.
    async with stack.http.get(
        stack.url("/oauth/userinfo"), headers={"Authorization": f"Bearer {tokens['access_token']}"}
    ) as r:
        assert r.status == 401


async def test_oidcc_ensure_request_with_valid_pkce_succeeds(stack: Stack) -> None:
    client = demo(stack)
    login = await _login(stack, client)
    last = "A" if login.verifier[-1] != "A" else "B"  # never the verifier itself
    wrong = Authorized(login.code, login.verifier[:-1] + last, "", "", "")
    status, body = await _redeem(stack, client, wrong)
    assert (status, body["error"]) == (400, "invalid_grant")
    login2 = await _login(stack, client)
    assert (await _redeem(stack, client, login2))[0] == 200


async def test_oidcc_refresh_token(stack: Stack) -> None:
    shop = await register(stack, refresh_tokens=True)
    user = (await stack.users())[0]
    params, verifier = authorization_params(shop)
    login = await log_in_through_login(stack, shop, user["openid"], params, verifier)
    status, tokens = await _redeem(stack, shop, login)
    assert status == 200, tokens
    form = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    status, fresh, headers = await token_request(stack, shop, form)
    assert status == 200, fresh
    assert headers["Cache-Control"] == "no-store"
    old = await id_claims(stack, tokens["id_token"], shop.client_id)
    new = await id_claims(stack, fresh["id_token"], shop.client_id)
    assert (new["sub"], new["iss"], new["aud"]) == (old["sub"], old["iss"], old["aud"])
    # The used refresh token is refused.
    status, body, _ = await token_request(stack, shop, form)
    assert (status, body["error"]) == (400, "invalid_grant")
