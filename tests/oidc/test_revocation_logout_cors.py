"""Revocation (RFC 7009), RP-initiated logout, CORS for registered web origins, and RFC
6749's error envelope for every refusal under /oauth/."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from minilogin_testkit import Stack
from oidc_testkit import SPA_ORIGIN, Client, exchange, log_in, refresh, register, revoke, userinfo


async def _tokens(stack: Stack, **fields: object) -> tuple[Client, dict[str, str]]:
    spa = await register(stack, token_endpoint_auth_method="none", refresh_tokens=True, **fields)
    user = (await stack.users())[0]
    status, tokens = await exchange(stack, spa, await log_in(stack, spa, user["openid"]))
    assert status == 200, tokens
    return spa, tokens


async def test_revoking_a_refresh_token_ends_the_login(stack: Stack) -> None:
    spa, tokens = await _tokens(stack)
    assert await revoke(stack, spa, tokens["refresh_token"], token_type_hint="refresh_token") == (
        200,
        "",
    )
    status, body = await refresh(stack, spa, tokens["refresh_token"])
    assert (status, body["error"]) == (400, "invalid_grant")
    assert (await userinfo(stack, tokens["access_token"]))[0] == 401


async def test_revoking_an_access_token_ends_only_that_token(stack: Stack) -> None:
    spa, tokens = await _tokens(stack)
    assert (await revoke(stack, spa, tokens["access_token"]))[0] == 200
    status, body = await userinfo(stack, tokens["access_token"])
    assert (status, body["error"]) == (401, "invalid_token")
    status, fresh = await refresh(stack, spa, tokens["refresh_token"])
    assert status == 200
    assert (await userinfo(stack, fresh["access_token"]))[0] == 200


async def test_an_unknown_token_is_revoked_without_complaint(stack: Stack) -> None:
    spa, _ = await _tokens(stack)
    for token in ("not-a-token", "A" * 22 + ".nope", "eyJ.eyJ.sig"):
        assert (await revoke(stack, spa, token))[0] == 200


async def test_a_client_cannot_revoke_another_clients_token(stack: Stack) -> None:
    _, tokens = await _tokens(stack)
    other = await register(stack, token_endpoint_auth_method="none", refresh_tokens=True)
    status, body = await revoke(stack, other, tokens["refresh_token"])
    assert status == 400
    assert '"unauthorized_client"' in body


async def test_logout_with_the_id_token_revokes_and_returns_with_state(stack: Stack) -> None:
    back = f"{SPA_ORIGIN}/signed-out"
    spa, tokens = await _tokens(stack, post_logout_redirect_uris=[back])
    async with stack.http.get(
        stack.url("/oauth/logout"),
        params={
            "id_token_hint": tokens["id_token"],
            "post_logout_redirect_uri": back,
            "state": "bye 1",
        },
        allow_redirects=False,
    ) as r:
        assert r.status == 302
        location = r.headers["Location"]
    assert location.startswith(back + "?")
    assert parse_qs(urlsplit(location).query) == {"state": ["bye 1"]}
    assert (await userinfo(stack, tokens["access_token"]))[0] == 401
    assert (await refresh(stack, spa, tokens["refresh_token"]))[0] == 400


async def test_logout_refuses_an_unregistered_return_address(stack: Stack) -> None:
    _, tokens = await _tokens(stack, post_logout_redirect_uris=[f"{SPA_ORIGIN}/signed-out"])
    for params in (
        {"id_token_hint": tokens["id_token"], "post_logout_redirect_uri": "https://evil.example/"},
        {"post_logout_redirect_uri": f"{SPA_ORIGIN}/signed-out"},  # no client named
        {"id_token_hint": tokens["id_token"][:-6] + "AAAAAA"},  # not our signature
    ):
        async with stack.http.get(
            stack.url("/oauth/logout"), params=params, allow_redirects=False
        ) as r:
            assert r.status == 400
            assert (await r.json())["error"] == "invalid_request"
    # Nothing was revoked by the refused requests.
    assert (await userinfo(stack, tokens["access_token"]))[0] == 200


async def test_logout_without_a_return_address_shows_a_signed_out_page(stack: Stack) -> None:
    _, tokens = await _tokens(stack)
    async with stack.http.get(
        stack.url("/oauth/logout"), params={"id_token_hint": tokens["id_token"]}
    ) as r:
        assert r.status == 200
        assert r.content_type == "text/html"
        assert "signed out" in await r.text()
    assert (await userinfo(stack, tokens["access_token"]))[0] == 401


@pytest.mark.parametrize(
    ("path", "method"),
    [
        ("/.well-known/openid-configuration", "GET"),
        ("/.well-known/jwks.json", "GET"),
        ("/oauth/token", "POST"),
        ("/oauth/userinfo", "GET"),
        ("/oauth/revoke", "POST"),
    ],
)
async def test_preflights_are_answered_for_registered_origins_only(
    stack: Stack, path: str, method: str
) -> None:
    await register(stack, token_endpoint_auth_method="none", web_origins=[SPA_ORIGIN])
    for origin, allowed in ((SPA_ORIGIN, True), ("https://evil.example", False)):
        async with stack.http.options(
            stack.url(path),
            headers={
                "Origin": origin,
                "Access-Control-Request-Method": method,
                "Access-Control-Request-Headers": "authorization",
            },
        ) as r:
            assert r.status == 204
            assert r.headers.get("Access-Control-Allow-Origin") == (origin if allowed else None)
            assert method in r.headers["Access-Control-Allow-Methods"]
            assert "Origin" in r.headers.getall("Vary")


async def test_the_token_answer_is_readable_by_the_clients_own_origin_only(stack: Stack) -> None:
    spa = await register(stack, token_endpoint_auth_method="none", web_origins=[SPA_ORIGIN])
    await register(stack, name="Other", web_origins=["https://other.example"])
    user = (await stack.users())[0]
    login = await log_in(stack, spa, user["openid"])
    for origin, allowed in (("https://other.example", False), (SPA_ORIGIN, True)):
        async with stack.http.post(
            stack.url("/oauth/token"),
            data={
                "client_id": spa.client_id,
                "grant_type": "authorization_code",
                "code": login.code if allowed else "x",
                "code_verifier": login.verifier,
                "redirect_uri": spa.redirect_uri,
            },
            headers={"Origin": origin},
        ) as r:
            assert r.status == (200 if allowed else 400)
            assert r.headers.get("Access-Control-Allow-Origin") == (origin if allowed else None)


@pytest.mark.parametrize(
    ("method", "path", "status", "error"),
    [
        ("GET", "/oauth/nothing-here", 404, "not_found"),
        ("GET", "/oauth/token", 405, "method_not_allowed"),
        ("DELETE", "/oauth/userinfo", 405, "method_not_allowed"),
    ],
)
async def test_http_refusals_under_oauth_use_the_oauth_envelope(
    stack: Stack, method: str, path: str, status: int, error: str
) -> None:
    async with stack.http.request(method, stack.url(path)) as r:
        assert r.status == status
        body = await r.json()
    assert body["error"] == error
    assert isinstance(body["error_description"], str)


async def test_an_oversized_token_request_gets_413_in_the_oauth_envelope(stack: Stack) -> None:
    async with stack.http.post(
        stack.url("/oauth/token"), data={"client_id": "demo", "pad": "x" * (600 * 1024)}
    ) as r:
        assert r.status == 413
        assert (await r.json())["error"] == "payload_too_large"
