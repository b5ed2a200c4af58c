"""CORS for the endpoints a single-page app calls from the browser: discovery, JWKS, token,
userinfo and revocation. Only an origin some app registered (App.web_origins) may read the
answers; where the request names its client (token, revocation: the authenticated client;
userinfo: the token's), only that app's origins. Error answers are readable too, so the app
can tell an invalid_grant from a network failure."""

from __future__ import annotations

from aiohttp import web

from account.clients import CLIENT
from account.context import ACCOUNT
from shared.errors import is_store_outage

routes = web.RouteTableDef()
# Path -> the methods a page may use there.
ENDPOINTS = {
    "/.well-known/openid-configuration": "GET",
    "/.well-known/jwks.json": "GET",
    "/oauth/token": "POST",
    "/oauth/userinfo": "GET, POST",
    "/oauth/revoke": "POST",
}
PREFLIGHT_MAX_AGE = 600


async def preflight(request: web.Request) -> web.Response:
    """The browser's OPTIONS before a cross-origin POST or a request with Authorization:
    which methods and headers may follow (the origin itself is judged in `add_headers`)."""
    return web.Response(
        status=204,
        headers={
            "Access-Control-Allow-Methods": ENDPOINTS[request.path],
            "Access-Control-Allow-Headers": "Authorization, Content-Type",
            "Access-Control-Max-Age": str(PREFLIGHT_MAX_AGE),
        },
    )


for _path in ENDPOINTS:
    if _path != "/oauth/userinfo":  # its handler takes every method and calls preflight
        routes.route("OPTIONS", _path)(preflight)


async def add_headers(request: web.Request, response: web.StreamResponse) -> None:
    """on_response_prepare: let a registered origin read the answer."""
    if request.path not in ENDPOINTS:
        return
    response.headers.add("Vary", "Origin")
    origin = request.headers.get("Origin")
    if not origin:
        return
    client = request.get(CLIENT)
    if client is not None:
        allowed = origin in client.web_origins
    else:
        try:
            allowed = await request.app[ACCOUNT].registry.origin_registered(origin)
        except Exception as exc:
            if not is_store_outage(exc):
                raise
            allowed = False  # the answer (a 503, most likely) goes out unreadable, not a 500
    if allowed:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Expose-Headers"] = "WWW-Authenticate"
