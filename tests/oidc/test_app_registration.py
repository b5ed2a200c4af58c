"""What an operator registers for the token side: public clients have no secret to show or
rotate, web origins are exact origins, logout return addresses follow the redirect URI rules."""

from __future__ import annotations

import pytest
from minilogin_testkit import Stack
from oidc_testkit import ADMIN, SPA_ORIGIN


async def test_a_public_client_has_no_secret_to_show_or_rotate(stack: Stack) -> None:
    status, app = await stack.post(
        "/admin/v1/apps",
        {
            "name": "SPA",
            "redirect_uris": [f"{SPA_ORIGIN}/cb"],
            "token_endpoint_auth_method": "none",
        },
        headers=ADMIN,
    )
    assert status == 201, app
    assert "client_secret" not in app
    assert (app["token_endpoint_auth_method"], app["refresh_tokens"]) == ("none", False)
    status, body = await stack.post(f"/admin/v1/apps/{app['client_id']}/secret", {}, headers=ADMIN)
    assert (status, body["error"]["code"]) == (409, "public_client")


async def test_a_confidential_client_is_the_default_and_gets_its_secret_once(stack: Stack) -> None:
    status, app = await stack.post(
        "/admin/v1/apps", {"name": "Shop", "redirect_uris": [f"{SPA_ORIGIN}/cb"]}, headers=ADMIN
    )
    assert status == 201, app
    assert app["token_endpoint_auth_method"] == "client_secret_basic"
    assert len(app["client_secret"]) >= 43


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("web_origins", ["https://shop.example/"]),  # a trailing slash: no browser sends it
        ("web_origins", ["https://Shop.example"]),
        ("web_origins", ["https://shop.example:443"]),
        ("web_origins", ["http://shop.example"]),  # plain http off loopback
        ("post_logout_redirect_uris", ["https://shop.example/bye#top"]),
        ("post_logout_redirect_uris", ["javascript:alert(1)"]),
    ],
)
async def test_origins_and_logout_addresses_are_checked(
    stack: Stack, field: str, value: list[str]
) -> None:
    status, body = await stack.post(
        "/admin/v1/apps",
        {"name": "Shop", "redirect_uris": [f"{SPA_ORIGIN}/cb"], field: value},
        headers=ADMIN,
    )
    assert (status, body["error"]["code"]) == (400, "invalid_request")
    assert body["error"]["details"][0]["field"] == field


async def test_refresh_tokens_and_logout_addresses_can_be_changed_later(stack: Stack) -> None:
    status, app = await stack.post(
        "/admin/v1/apps", {"name": "Shop", "redirect_uris": [f"{SPA_ORIGIN}/cb"]}, headers=ADMIN
    )
    assert status == 201
    async with stack.http.patch(
        stack.url(f"/admin/v1/apps/{app['client_id']}"),
        json={"refresh_tokens": True, "post_logout_redirect_uris": [f"{SPA_ORIGIN}/bye"]},
        headers=ADMIN,
    ) as r:
        assert r.status == 200
        patched = await r.json()
    assert patched["refresh_tokens"] is True
    assert patched["post_logout_redirect_uris"] == [f"{SPA_ORIGIN}/bye"]
