"""A relying party, as a customer's website would be: redirect or popup login, code
exchange with PKCE, ID token verified against the JWKS. Development only."""

from __future__ import annotations

import base64
import hashlib
import html
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import aiohttp
import jwt
from aiohttp import web

from devstack.seed import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET
from qr_issuer.pages import SECURITY_HEADERS
from shared.runtime import HTTP

routes = web.RouteTableDef()


@dataclass
class DemoState:
    issuer: str
    pending: dict[str, tuple[str, str, float]] = field(
        default_factory=dict
    )  # state -> verifier, nonce
    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)


DEMO = web.AppKey("demo_site", DemoState)


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    return verifier, challenge.rstrip(b"=").decode()


def _page(body: str) -> web.Response:
    # The hosted login page's policy: no framing (clickjacking), no inline script.
    return web.Response(
        content_type="text/html",
        headers=SECURITY_HEADERS,
        text=f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>MiniLogin Demo Shop</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/demo/static/demo.css"></head>
<body><main class="shop"><h1>MiniLogin Demo Shop</h1>{body}</main>
<script src="/demo/static/demo.js" defer></script></body></html>""",
    )


@routes.get("/")
async def root(_: web.Request) -> web.Response:
    raise web.HTTPFound("/demo/")


@routes.get("/demo/")
async def home(request: web.Request) -> web.Response:
    demo = request.app[DEMO]
    user = demo.sessions.get(request.cookies.get("demo_session", ""))
    if user:
        rows = "".join(
            f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>"
            for k, v in user.items()
        )
        name = html.escape(str(user.get("name") or user["sub"]))
        return _page(f"""<p id="welcome" class="ok">Logged in as
<strong id="who">{name}</strong></p>
<p class="muted">From a verified ID token (RS256, checked against the JWKS):</p>
<table id="claims">{rows}</table>
<form method="post" action="/demo/logout"><button type="submit">Log out</button></form>""")
    return _page("""<p>Welcome! Log in to see your orders.</p>
<p><a class="button" id="login" href="/demo/login">Log in with WeChat</a></p>
<p><button type="button" id="login-popup" class="secondary">
Log in with WeChat (popup)</button></p>""")


def _authorize_url(demo: DemoState, request: web.Request, mode: str) -> tuple[str, str]:
    state = secrets.token_urlsafe(16)
    nonce = secrets.token_urlsafe(16)
    verifier, challenge = _pkce()
    demo.pending[state] = (verifier, nonce, time.time())
    query = urlencode(
        {
            "client_id": DEMO_CLIENT_ID,
            "redirect_uri": f"{demo.issuer}/demo/callback",
            "response_type": "code",
            "scope": "openid profile phone",
            "state": state,
            "nonce": nonce,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "mode": mode,
        }
    )
    return f"{demo.issuer}/login?{query}", state


@routes.get("/demo/login")
async def login(request: web.Request) -> web.Response:
    demo = request.app[DEMO]
    url, state = _authorize_url(demo, request, request.query.get("mode", "redirect"))
    popup = request.query.get("mode") == "popup"
    resp: web.Response = web.json_response({"url": url}) if popup else web.HTTPFound(url)
    resp.set_cookie("demo_state", state, httponly=True, samesite="Lax", path="/demo/")
    if isinstance(resp, web.HTTPFound):
        raise resp
    return resp


@routes.get("/demo/callback")
async def callback(request: web.Request) -> web.Response:
    demo = request.app[DEMO]
    state, code = request.query.get("state", ""), request.query.get("code", "")
    if not code or state != request.cookies.get("demo_state") or state not in demo.pending:
        return _page(
            '<p class="bad" id="error">Login failed: state mismatch. '
            '<a href="/demo/">Try again</a></p>'
        )
    verifier, nonce, _ = demo.pending.pop(state)
    http = request.app[HTTP]
    async with http.post(
        f"{demo.issuer}/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "code_verifier": verifier,
            "redirect_uri": f"{demo.issuer}/demo/callback",
        },
        headers={"Authorization": aiohttp.encode_basic_auth(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET)},
    ) as resp:
        tokens = await resp.json()
    if "id_token" not in tokens:
        return _page(
            f'<p class="bad" id="error">Token exchange refused: '
            f"{html.escape(str(tokens.get('error')))}</p>"
        )
    claims = await verify_id_token(http, demo.issuer, tokens["id_token"], DEMO_CLIENT_ID)
    if claims.get("nonce") != nonce:
        return _page('<p class="bad" id="error">Login failed: nonce mismatch.</p>')
    session = secrets.token_urlsafe(24)
    demo.sessions[session] = {
        k: claims[k]
        for k in ("sub", "name", "phone_number", "amr", "auth_time", "iss", "aud")
        if k in claims
    }
    out = web.HTTPFound("/demo/")
    out.set_cookie("demo_session", session, httponly=True, samesite="Lax", path="/demo/")
    out.del_cookie("demo_state", path="/demo/")
    raise out


async def verify_id_token(
    http: aiohttp.ClientSession, issuer: str, token: str, client_id: str
) -> dict[str, Any]:
    """What any relying party does: fetch the JWKS, pick the key by kid, check everything."""
    async with http.get(f"{issuer}/.well-known/jwks.json") as resp:
        jwks = await resp.json()
    kid = jwt.get_unverified_header(token).get("kid")
    key = next(k for k in jwks["keys"] if k["kid"] == kid)
    claims: dict[str, Any] = jwt.decode(
        token, jwt.PyJWK(key).key, algorithms=["RS256"], audience=client_id, issuer=issuer
    )
    return claims


@routes.post("/demo/logout")
async def logout(request: web.Request) -> web.Response:
    request.app[DEMO].sessions.pop(request.cookies.get("demo_session", ""), None)
    out = web.HTTPFound("/demo/")
    out.del_cookie("demo_session", path="/demo/")
    raise out


@routes.get("/demo/static/{name}")
async def static(request: web.Request) -> web.Response:
    from importlib import resources

    name = request.match_info["name"]
    types = {"demo.css": "text/css", "demo.js": "application/javascript"}
    if name not in types:
        raise web.HTTPNotFound()
    body = resources.files("devstack").joinpath("static", name).read_bytes()
    return web.Response(body=body, content_type=types[name])
