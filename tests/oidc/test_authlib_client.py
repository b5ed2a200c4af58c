"""A stock client proves the flow: Authlib's OAuth 2 client, as a site's confidential backend
would use it, runs the whole login from discovery to revocation. Nothing here builds a
request by hand except what the person's browser and phone do."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from authlib.common.security import generate_token
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.httpx_client import AsyncOAuth2Client
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.jwk import KeySet
from minilogin_testkit import Stack, code_from, wait_for_status
from oidc_testkit import ADMIN

from devstack.seed import DEMO_CONNECTION


async def _confidential_app(stack: Stack) -> dict[str, Any]:
    status, app = await stack.post(
        "/admin/v1/apps",
        {
            "name": "Authlib Shop",
            "redirect_uris": [stack.redirect_uri],
            "connections": [DEMO_CONNECTION],
            "refresh_tokens": True,
        },
        headers=ADMIN,
    )
    assert status == 201, app
    created: dict[str, Any] = app
    return created


async def _person_logs_in(stack: Stack, authorization_url: str, openid: str) -> str:
    """What the browser and the phone do with the authorization URL: the hosted page opens,
    its script makes the ticket from the request, the phone scans and confirms. Returns the
    URL the browser is sent back to."""
    browser = stack.browser()
    async with browser.session.get(authorization_url) as r:
        assert r.status == 200, await r.text()
    query = {k: v[0] for k, v in parse_qs(urlsplit(authorization_url).query).items()}
    ticket_request = {
        k: query[k]
        for k in ("client_id", "redirect_uri", "state", "nonce", "code_challenge", "scope")
    }
    ticket_request["code_challenge_method"] = query["code_challenge_method"]
    async with browser.session.post(stack.url("/api/v1/tickets"), json=ticket_request) as r:
        assert r.status == 201, await r.text()
        ticket = (await r.json())["ticket"]
    async with browser.socket(ticket) as ws:
        status, scan = await stack.scan(ticket, openid)
        assert status == 200, scan
        confirm = {
            "ticket": ticket,
            "session": scan["session"],
            "phone_code": await stack.phone_code(openid),
            "nickname": "Authlib User",
        }
        assert (await stack.post("/mp/v1/confirm", confirm))[0] == 200
        done = await wait_for_status(ws, "succeeded")
    url: str = done["redirect_url"]
    return url


async def test_authlib_confidential_client_logs_in_refreshes_and_revokes(stack: Stack) -> None:
    app = await _confidential_app(stack)
    user = (await stack.users())[0]

    def here(url: str) -> str:
        """An endpoint of the metadata, reached where the test's services listen."""
        return stack.url(urlsplit(url).path)

    async with AsyncOAuth2Client(
        client_id=app["client_id"],
        client_secret=app["client_secret"],
        scope="openid profile phone",
        redirect_uri=stack.redirect_uri,
        code_challenge_method="S256",
        token_endpoint_auth_method="client_secret_basic",
    ) as client:
        meta = (
            await client.request(
                "GET", stack.url("/.well-known/openid-configuration"), withhold_token=True
            )
        ).json()
        assert meta["issuer"] == stack.public
        verifier, nonce = generate_token(48), generate_token(16)
        url, state = client.create_authorization_url(
            here(meta["authorization_endpoint"]), code_verifier=verifier, nonce=nonce
        )
        back = await _person_logs_in(stack, url, user["openid"])
        assert code_from(back)[1] == state

        token = await client.fetch_token(
            here(meta["token_endpoint"]),
            authorization_response=back,
            state=state,
            code_verifier=verifier,
        )
        jwks = await client.request("GET", here(meta["jwks_uri"]), withhold_token=True)
        keys = KeySet.import_key_set(jwks.json())
        decoded = jwt.decode(token["id_token"], keys, algorithms=["RS256"])
        claims = CodeIDToken(
            decoded.claims,
            decoded.header,
            options={"iss": {"essential": True, "value": meta["issuer"]}},
            params={"nonce": nonce, "client_id": app["client_id"]},
        )
        claims.validate()
        assert claims["phone_number"] == f"+{user['country_code']}{user['phone']}"

        info = (await client.get(here(meta["userinfo_endpoint"]))).json()
        assert info["sub"] == claims["sub"]
        assert info["name"] == "Authlib User"

        first_refresh = token["refresh_token"]
        refreshed = await client.refresh_token(here(meta["token_endpoint"]))
        assert refreshed["refresh_token"] != first_refresh
        assert (await client.get(here(meta["userinfo_endpoint"]))).status_code == 200

        revoked = await client.revoke_token(
            here(meta["revocation_endpoint"]),
            token=refreshed["refresh_token"],
            token_type_hint="refresh_token",
        )
        assert revoked.status_code == 200
        assert (await client.get(here(meta["userinfo_endpoint"]))).status_code == 401
        with pytest.raises(OAuthError) as refused:
            await client.refresh_token(
                here(meta["token_endpoint"]), refresh_token=refreshed["refresh_token"]
            )
        assert refused.value.error == "invalid_grant"
