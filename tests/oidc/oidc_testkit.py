"""Logins for OpenID Connect tests: apps registered through the admin API (public or
confidential, with or without refresh tokens), a whole login for any of them, and the token
endpoint called as each kind of client calls it. (A uniquely named module: every test folder
has its own conftest.)"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

import aiohttp
import jwt
from minilogin_testkit import Stack, code_from, pkce, wait_for_status

from devstack.seed import DEMO_CONNECTION
from shared.settings import DEV_ADMIN_TOKEN
from shared.tickets import TicketStatus

ADMIN = {"Authorization": f"Bearer {DEV_ADMIN_TOKEN}"}
SPA_ORIGIN = "http://127.0.0.1:9"  # a registered web origin nobody serves (CORS is judged)


@dataclass(frozen=True)
class Client:
    client_id: str
    secret: str | None  # None: a public client
    redirect_uri: str

    def auth(self) -> tuple[dict[str, str], dict[str, str]]:
        """Headers and form fields that authenticate this client at the token endpoint."""
        if self.secret is None:
            return {}, {"client_id": self.client_id}
        basic = aiohttp.encode_basic_auth(self.client_id, self.secret)
        return {"Authorization": basic}, {}


async def register(stack: Stack, **fields: Any) -> Client:
    """An app for the demo connection, created through the admin API."""
    redirect = f"{SPA_ORIGIN}/callback"
    body = {
        "name": "Test SPA",
        "redirect_uris": [redirect],
        "connections": [DEMO_CONNECTION],
        **fields,
    }
    status, app = await stack.post("/admin/v1/apps", body, headers=ADMIN)
    assert status == 201, app
    return Client(app["client_id"], app.get("client_secret"), app["redirect_uris"][0])


@dataclass(frozen=True)
class Code:
    code: str
    verifier: str
    state: str
    redirect_url: str


async def log_in(
    stack: Stack,
    client: Client,
    openid: str,
    *,
    scope: str | None = None,
    phone: bool = True,
    nickname: str = "Test User",
) -> Code:
    """A whole login by `openid` for `client`, sharing `nickname`, and the phone number if
    `phone`;
    `scope` replaces the ticket's (what the site asked for at /login)."""
    browser = stack.browser()
    status, ticket, verifier = await browser.create_ticket(
        client_id=client.client_id, redirect_uri=client.redirect_uri
    )
    assert status == 201, ticket
    if scope is not None:
        await stack.tickets.amend(ticket["ticket"], TicketStatus.PENDING, {"scope": scope})
    async with browser.socket(ticket["ticket"]) as ws:
        status, scan = await stack.scan(ticket["ticket"], openid)
        assert status == 200, scan
        confirm: dict[str, Any] = {
            "ticket": ticket["ticket"],
            "session": scan["session"],
            "nickname": nickname,
        }
        if phone:
            confirm["phone_code"] = await stack.phone_code(openid)
        status, body = await stack.post("/mp/v1/confirm", confirm)
        assert status == 200, body
        done = await wait_for_status(ws, "succeeded")
    code, state = code_from(done["redirect_url"])
    return Code(code, verifier, state, done["redirect_url"])


async def token_request(
    stack: Stack, client: Client, form: dict[str, str], **headers: str
) -> tuple[int, Any, dict[str, str]]:
    """POST /oauth/token as `client`: status, JSON body, headers."""
    auth_headers, auth_form = client.auth()
    async with stack.http.post(
        stack.url("/oauth/token"), data={**auth_form, **form}, headers={**auth_headers, **headers}
    ) as r:
        return r.status, await r.json(), dict(r.headers)


async def exchange(stack: Stack, client: Client, login: Code, **headers: str) -> tuple[int, Any]:
    status, body, _ = await token_request(
        stack,
        client,
        {
            "grant_type": "authorization_code",
            "code": login.code,
            "code_verifier": login.verifier,
            "redirect_uri": client.redirect_uri,
        },
        **headers,
    )
    return status, body


async def refresh(stack: Stack, client: Client, token: str, **extra: str) -> tuple[int, Any]:
    status, body, _ = await token_request(
        stack, client, {"grant_type": "refresh_token", "refresh_token": token, **extra}
    )
    return status, body


async def userinfo(stack: Stack, access_token: str) -> tuple[int, Any]:
    async with stack.http.get(
        stack.url("/oauth/userinfo"), headers={"Authorization": f"Bearer {access_token}"}
    ) as r:
        return r.status, await r.json()


async def revoke(stack: Stack, client: Client, token: str, **extra: str) -> tuple[int, str]:
    auth_headers, auth_form = client.auth()
    async with stack.http.post(
        stack.url("/oauth/revoke"),
        data={**auth_form, "token": token, **extra},
        headers=auth_headers,
    ) as r:
        return r.status, await r.text()


def nonce() -> str:
    return secrets.token_urlsafe(8)


async def id_claims(stack: Stack, token: str, audience: str) -> dict[str, Any]:
    """The ID token's claims, verified against the published JWKS."""
    async with stack.http.get(stack.url("/.well-known/jwks.json")) as r:
        jwks = await r.json()
    kid = jwt.get_unverified_header(token)["kid"]
    key = next(k for k in jwks["keys"] if k["kid"] == kid)
    claims: dict[str, Any] = jwt.decode(
        token, jwt.PyJWK(key).key, algorithms=["RS256"], audience=audience, issuer=stack.public
    )
    return claims


@dataclass(frozen=True)
class Authorized:
    code: str
    verifier: str
    nonce: str
    state: str
    redirect_url: str


async def authorize(stack: Stack, params: dict[str, str]) -> tuple[int, str | None]:
    """GET /login with `params` as a site's link would send it: the status and, for a
    redirect back to the site, where to."""
    async with stack.http.get(stack.url("/login"), params=params, allow_redirects=False) as r:
        return r.status, r.headers.get("Location")


def authorization_params(client: Client, **extra: str) -> tuple[dict[str, str], str]:
    """A well-formed authorization request for `client`, and its PKCE verifier."""
    verifier, challenge = pkce()
    params = {
        "client_id": client.client_id,
        "redirect_uri": client.redirect_uri,
        "response_type": "code",
        "scope": "openid profile phone",
        "state": "st-" + secrets.token_hex(4),
        "nonce": "n-" + secrets.token_hex(4),
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **extra,
    }
    return {k: v for k, v in params.items() if v != ""}, verifier


async def log_in_through_login(
    stack: Stack, client: Client, openid: str, params: dict[str, str], verifier: str
) -> Authorized:
    """The hosted page accepts `params` (200), its script makes the ticket from them, the
    person scans and confirms (sharing the phone number), and the browser is sent back."""
    status, location = await authorize(stack, params)
    assert (status, location) == (200, None), location
    wanted = ("client_id", "redirect_uri", "state", "nonce", "scope", "code_challenge")
    body: dict[str, Any] = {k: params[k] for k in wanted if k in params}
    if "prompt" in params:
        body["prompt"] = params["prompt"]
    if "max_age" in params:
        body["max_age"] = int(params["max_age"])
    browser = stack.browser()
    async with browser.session.post(stack.url("/api/v1/tickets"), json=body) as r:
        assert r.status == 201, await r.text()
        ticket = (await r.json())["ticket"]
    async with browser.socket(ticket) as ws:
        status, scan = await stack.scan(ticket, openid)
        assert status == 200, scan
        confirm = {
            "ticket": ticket,
            "session": scan["session"],
            "nickname": "Conformance",
            "phone_code": await stack.phone_code(openid),
        }
        assert (await stack.post("/mp/v1/confirm", confirm))[0] == 200
        done = await wait_for_status(ws, "succeeded")
    code, state = code_from(done["redirect_url"])
    return Authorized(code, verifier, params.get("nonce", ""), state, done["redirect_url"])
