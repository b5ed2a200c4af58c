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
from urllib.parse import parse_qs, urlencode, urlsplit

import aiohttp
import jwt
from aiohttp import web

from devstack.seed import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_CONNECTION, DemoAccount
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
    # make run: the ask-binding connection to try, and the local account to link WeChat to.
    binding_connection: str | None = None
    account: DemoAccount | None = None

    def connection(self, wanted: str) -> str:
        """The connection a login of the demo names: the demo's own unless the ask-binding
        one is asked for (the site always names one: the app has two in make run)."""
        return wanted if wanted and wanted == self.binding_connection else DEMO_CONNECTION


DEMO = web.AppKey("demo_site", DemoState)


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    return verifier, challenge.rstrip(b"=").decode()


def _page(body: str, issuer: str) -> web.Response:
    # The hosted login page's policy: no framing (clickjacking), no inline script. The SDK
    # comes from MiniLogin's origin, as a customer's site would load it.
    return web.Response(
        content_type="text/html",
        headers=SECURITY_HEADERS,
        text=f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>MiniLogin Demo Shop</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/demo/static/demo.css"></head>
<body><main class="shop"><h1>MiniLogin Demo Shop</h1>{body}</main>
<script src="{html.escape(issuer)}/sdk/minilogin.js" defer></script>
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
        return _page(
            f"""<p id="welcome" class="ok">Logged in as
<strong id="who">{name}</strong></p>
<p class="muted">From a verified ID token (RS256, checked against the JWKS):</p>
<table id="claims"><caption class="muted">Claims</caption>{rows}</table>
<form method="post" action="/demo/logout"><button type="submit">Log out</button></form>""",
            demo.issuer,
        )
    # Three ways in: the hosted page (redirect), the SDK's popup, the SDK's QR in this page.
    return _page(
        f"""<p>Welcome! Log in to see your orders.</p>
<div class="ways">
<a class="button" id="login" href="/demo/login">Log in with WeChat</a>
<button type="button" id="login-popup" class="secondary">Log in in a popup</button>
<button type="button" id="login-embedded" class="secondary">Show the QR code here</button>
</div>
<section id="minilogin" class="embedded" aria-label="Log in with WeChat" hidden></section>
{_binding_offer(demo)}
<p id="dev" class="muted" hidden><a id="phone-link" target="_blank" rel="noopener">
Open the phone simulator (development)</a></p>
<section aria-labelledby="events-title"><h2 id="events-title">What the SDK told this page</h2>
<ol id="events" class="events"></ol></section>""",
        demo.issuer,
    )


def _binding_offer(demo: DemoState) -> str:
    """make run: a login through the ask-binding connection, and the account to link to."""
    if not demo.binding_connection or demo.account is None:
        return ""
    return f"""
<section id="try-binding" class="try" aria-labelledby="try-title">
<h2 id="try-title">Try linking WeChat to an existing account</h2>
<p>This login asks you to link your WeChat to an account of the shop. Use the demo account:
email <code id="demo-email">{html.escape(demo.account.email)}</code>, password
<code id="demo-password">{html.escape(demo.account.password)}</code>.</p>
<a class="button secondary" id="login-binding"
 href="/demo/login?connection={html.escape(demo.binding_connection)}">Log in and link my account</a>
</section>"""


def _authorize_url(demo: DemoState, request: web.Request, mode: str) -> tuple[str, str]:
    """The hosted page's URL with a fresh state, nonce and PKCE pair (verifier kept here)."""
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
            "connection": demo.connection(request.query.get("connection", "")),
        }
    )
    return f"{demo.issuer}/login?{query}", state


@routes.get("/demo/login")
async def login(request: web.Request) -> web.Response:
    """Redirect mode: off to the hosted page. `?sdk=1`: the authorization request's values
    as JSON for the SDK (popup or embedded), the PKCE verifier kept here for the exchange."""
    demo = request.app[DEMO]
    url, state = _authorize_url(demo, request, "redirect")
    resp: web.Response
    if request.query.get("sdk") == "1":
        query = parse_qs(urlsplit(url).query)
        resp = web.json_response(
            {
                "issuer": demo.issuer,
                "client_id": DEMO_CLIENT_ID,
                "redirect_uri": f"{demo.issuer}/demo/callback",
                "state": state,
                "nonce": query["nonce"][0],
                "code_challenge": query["code_challenge"][0],
                "connection": query["connection"][0],
            },
            headers={"Cache-Control": "no-store"},
        )
    else:
        resp = web.HTTPFound(url)
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
            '<a href="/demo/">Try again</a></p>',
            demo.issuer,
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
            f"{html.escape(str(tokens.get('error')))}</p>",
            demo.issuer,
        )
    claims = await verify_id_token(http, demo.issuer, tokens["id_token"], DEMO_CLIENT_ID)
    if claims.get("nonce") != nonce:
        return _page('<p class="bad" id="error">Login failed: nonce mismatch.</p>', demo.issuer)
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
