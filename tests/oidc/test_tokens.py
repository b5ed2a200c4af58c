"""The token side as a site sees it: claims by scope, E.164 phone numbers, public clients,
refresh tokens rotated with reuse detection, a reused code taking back its tokens."""

from __future__ import annotations

from typing import Any

import pytest
from minilogin_testkit import Stack, fail_next_user_read
from oidc_testkit import (
    Client,
    exchange,
    id_claims,
    log_in,
    refresh,
    register,
    token_request,
    userinfo,
)

from devstack.seed import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET
from shared.settings import DEV_ADMIN_TOKEN


def demo(stack: Stack) -> Client:
    return Client(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, stack.redirect_uri)


async def new_user(stack: Stack, **fields: Any) -> dict[str, Any]:
    async with stack.http.post(f"{stack.sandbox_url}/__sandbox/users", json=fields) as r:
        assert r.status in (200, 201), await r.text()
        user: dict[str, Any] = await r.json()
        return user


async def test_scope_openid_alone_gives_only_the_subject(stack: Stack) -> None:
    user = (await stack.users())[0]
    login = await log_in(stack, demo(stack), user["openid"], scope="openid")
    status, tokens = await exchange(stack, demo(stack), login)
    assert status == 200, tokens
    assert tokens["scope"] == "openid"
    claims = await id_claims(stack, tokens["id_token"], DEMO_CLIENT_ID)
    assert not {"name", "picture", "phone_number", "phone_number_verified"} & set(claims)
    status, info = await userinfo(stack, tokens["access_token"])
    assert (status, info) == (200, {"sub": claims["sub"]})


async def test_profile_and_phone_scopes_each_add_their_own_claims(stack: Stack) -> None:
    user = (await stack.users())[0]
    login = await log_in(
        stack, demo(stack), user["openid"], scope="openid profile", nickname=user["nickname"]
    )
    _, tokens = await exchange(stack, demo(stack), login)
    status, info = await userinfo(stack, tokens["access_token"])
    assert status == 200
    assert info["name"] == user["nickname"]
    assert "phone_number" not in info

    login = await log_in(stack, demo(stack), user["openid"], scope="phone openid")
    _, tokens = await exchange(stack, demo(stack), login)
    assert tokens["scope"] == "openid phone"
    _, info = await userinfo(stack, tokens["access_token"])
    assert "name" not in info
    assert info["phone_number_verified"] is True


async def test_phone_numbers_are_e164_for_china_and_elsewhere(stack: Stack) -> None:
    china = await new_user(stack, openid="o-e164-cn", phone="13800001111")
    usa = await new_user(stack, openid="o-e164-us", phone="4155550199", country_code="1")
    found = {}
    for user in (china, usa):
        login = await log_in(stack, demo(stack), user["openid"])
        _, tokens = await exchange(stack, demo(stack), login)
        claims = await id_claims(stack, tokens["id_token"], DEMO_CLIENT_ID)
        found[user["openid"]] = claims["phone_number"]
    assert found == {"o-e164-cn": "+8613800001111", "o-e164-us": "+14155550199"}


async def test_no_phone_means_no_phone_number_verified(stack: Stack) -> None:
    user = await new_user(stack, openid="o-no-phone", nickname="No Phone")
    login = await log_in(stack, demo(stack), user["openid"], phone=False, nickname="No Phone")
    _, tokens = await exchange(stack, demo(stack), login)
    claims = await id_claims(stack, tokens["id_token"], DEMO_CLIENT_ID)
    assert claims["name"] == "No Phone"
    assert "phone_number" not in claims
    assert "phone_number_verified" not in claims


async def test_a_public_client_redeems_its_code_with_pkce_and_no_secret(stack: Stack) -> None:
    spa = await register(stack, token_endpoint_auth_method="none")
    assert spa.secret is None  # no secret is ever made for it
    user = (await stack.users())[0]
    login = await log_in(stack, spa, user["openid"])
    status, tokens = await exchange(stack, spa, login)
    assert status == 200, tokens
    assert (await id_claims(stack, tokens["id_token"], spa.client_id))["azp"] == spa.client_id
    assert "refresh_token" not in tokens  # not opted in


async def test_a_public_client_sending_a_secret_is_refused(stack: Stack) -> None:
    spa = await register(stack, token_endpoint_auth_method="none")
    status, body, _ = await token_request(
        stack, spa, {"grant_type": "authorization_code", "client_secret": "guess"}
    )
    assert (status, body["error"]) == (401, "invalid_client")


async def test_a_confidential_client_without_its_secret_is_refused(stack: Stack) -> None:
    no_secret = Client(DEMO_CLIENT_ID, None, stack.redirect_uri)
    user = (await stack.users())[0]
    login = await log_in(stack, demo(stack), user["openid"])
    status, body = await exchange(stack, no_secret, login)
    assert (status, body["error"]) == (401, "invalid_client")
    # The refused attempt did not use the code up.
    status, _ = await exchange(stack, demo(stack), login)
    assert status == 200


async def test_refresh_tokens_rotate_and_an_old_one_revokes_the_whole_login(stack: Stack) -> None:
    spa = await register(stack, token_endpoint_auth_method="none", refresh_tokens=True)
    user = (await stack.users())[0]
    login = await log_in(stack, spa, user["openid"])
    _, first = await exchange(stack, spa, login)
    first_claims = await id_claims(stack, first["id_token"], spa.client_id)

    status, second = await refresh(stack, spa, first["refresh_token"])
    assert status == 200, second
    assert second["refresh_token"] != first["refresh_token"]
    claims = await id_claims(stack, second["id_token"], spa.client_id)
    assert claims["sub"] == first_claims["sub"]
    assert claims["auth_time"] == first_claims["auth_time"]
    assert "nonce" not in claims
    assert (await userinfo(stack, second["access_token"]))[0] == 200

    # The first refresh token again: someone else has a copy. Everything of this login ends.
    status, body = await refresh(stack, spa, first["refresh_token"])
    assert (status, body["error"]) == (400, "invalid_grant")
    status, body = await refresh(stack, spa, second["refresh_token"])
    assert (status, body["error"]) == (400, "invalid_grant")
    for access in (first["access_token"], second["access_token"]):
        status, body = await userinfo(stack, access)
        assert (status, body["error"]) == (401, "invalid_token")


async def test_a_refresh_a_store_failed_can_be_retried_with_the_same_token(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # MongoDB times out after the rotation: the app gets 503 and retries with the refresh
    # token it holds, which must not count as a stolen copy's reuse and end the login.
    spa = await register(stack, token_endpoint_auth_method="none", refresh_tokens=True)
    user = (await stack.users())[0]
    _, tokens = await exchange(stack, spa, await log_in(stack, spa, user["openid"]))
    fail_next_user_read(stack, monkeypatch)
    status, body = await refresh(stack, spa, tokens["refresh_token"])
    assert (status, body["error"]) == (503, "temporarily_unavailable")

    status, again = await refresh(stack, spa, tokens["refresh_token"])
    assert status == 200, again
    assert (await userinfo(stack, again["access_token"]))[0] == 200
    status, _ = await refresh(stack, spa, again["refresh_token"])
    assert status == 200  # the login goes on


async def test_a_disabled_account_can_no_longer_refresh_its_tokens(stack: Stack) -> None:
    spa = await register(stack, token_endpoint_auth_method="none", refresh_tokens=True)
    user = (await stack.users())[0]
    _, tokens = await exchange(stack, spa, await log_in(stack, spa, user["openid"]))
    sub = (await id_claims(stack, tokens["id_token"], spa.client_id))["sub"]
    async with stack.http.post(
        stack.url(f"/admin/v1/users/{sub}/disable"),
        headers={"Authorization": f"Bearer {DEV_ADMIN_TOKEN}"},
    ) as r:
        assert r.status == 200, await r.text()

    status, body = await refresh(stack, spa, tokens["refresh_token"])
    assert (status, body["error"]) == (400, "invalid_grant")
    assert "disabled" in body["error_description"]
    # The login is over: its access token goes with it.
    status, body = await userinfo(stack, tokens["access_token"])
    assert (status, body["error"]) == (401, "invalid_token")


async def test_a_refresh_may_narrow_the_scope_but_not_widen_it(stack: Stack) -> None:
    spa = await register(stack, token_endpoint_auth_method="none", refresh_tokens=True)
    user = (await stack.users())[0]
    login = await log_in(stack, spa, user["openid"], scope="openid profile")
    _, tokens = await exchange(stack, spa, login)
    status, body = await refresh(stack, spa, tokens["refresh_token"], scope="openid phone")
    assert (status, body["error"]) == (400, "invalid_scope")
    status, body = await refresh(stack, spa, tokens["refresh_token"], scope="openid")
    assert (status, body.get("scope")) == (200, "openid"), body


async def test_refresh_tokens_are_only_for_apps_that_opted_in(stack: Stack) -> None:
    status, body = await refresh(stack, demo(stack), "A" * 22 + ".anything")
    assert (status, body["error"]) == (400, "unauthorized_client")


async def test_another_clients_refresh_token_is_refused_and_stays_valid(stack: Stack) -> None:
    spa = await register(stack, token_endpoint_auth_method="none", refresh_tokens=True)
    other = await register(stack, token_endpoint_auth_method="none", refresh_tokens=True)
    user = (await stack.users())[0]
    _, tokens = await exchange(stack, spa, await log_in(stack, spa, user["openid"]))
    status, body = await refresh(stack, other, tokens["refresh_token"])
    assert (status, body["error"]) == (400, "invalid_grant")
    status, _ = await refresh(stack, spa, tokens["refresh_token"])
    assert status == 200


async def test_a_reused_code_revokes_the_tokens_it_gave(stack: Stack) -> None:
    spa = await register(stack, token_endpoint_auth_method="none", refresh_tokens=True)
    user = (await stack.users())[0]
    login = await log_in(stack, spa, user["openid"])
    status, tokens = await exchange(stack, spa, login)
    assert status == 200
    assert (await userinfo(stack, tokens["access_token"]))[0] == 200

    status, body = await exchange(stack, spa, login)
    assert (status, body["error"]) == (400, "invalid_grant")
    assert (await userinfo(stack, tokens["access_token"]))[0] == 401
    status, body = await refresh(stack, spa, tokens["refresh_token"])
    assert (status, body["error"]) == (400, "invalid_grant")
