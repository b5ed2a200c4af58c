"""The hosted login page, its assets, and the page a plain phone camera lands on."""

from __future__ import annotations

import html
import json
from importlib import resources

from aiohttp import web

from qr_issuer.context import ISSUER
from shared.profile import AVATAR_IMG_SOURCES

routes = web.RouteTableDef()
_STATIC = resources.files("qr_issuer").joinpath("static")
_ASSETS = {"login.js": "application/javascript", "login.css": "text/css"}

# The page only talks to its own origin, cannot be framed (QRLJacking, clickjacking),
# and runs no inline script. Pictures: its own, data URLs (the QR code, our avatars) and
# WeChat's avatar hosts (the scanner's account picture).
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        f"default-src 'self'; img-src 'self' {AVATAR_IMG_SOURCES}; connect-src 'self'; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}


@routes.get("/login")
async def login_page(request: web.Request) -> web.Response:
    issuer = request.app[ISSUER]
    config = {"phoneSimulatorUrl": issuer.settings.dev_phone_simulator_url or None}
    page = (_STATIC / "login.html").read_text()
    page = page.replace("{{CONFIG}}", html.escape(json.dumps(config), quote=True))
    return web.Response(text=page, content_type="text/html", headers=SECURITY_HEADERS)


@routes.get("/login/static/{name}")
async def login_asset(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    if name not in _ASSETS:
        raise web.HTTPNotFound()
    return web.Response(
        body=(_STATIC / name).read_bytes(),
        content_type=_ASSETS[name],
        headers={"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"},
    )


@routes.get("/q/{ticket}")
async def plain_camera(_: web.Request) -> web.Response:
    """The `url` QR opened by something other than WeChat: say what to do instead."""
    return web.Response(
        text=(_STATIC / "scan-with-wechat.html").read_text(),
        content_type="text/html",
        headers=SECURITY_HEADERS,
    )


@routes.get("/api/v1/connections/{connection}/logo.png")
async def connection_logo(request: web.Request) -> web.Response:
    """The logo the phone shows next to the site's name."""
    issuer = request.app[ISSUER]
    conn = await issuer.registry.connection(request.match_info["connection"])
    if not conn.logo_png:
        raise web.HTTPNotFound()
    return web.Response(
        body=conn.logo_png,
        content_type="image/png",
        headers={"Cache-Control": "public, max-age=300"},
    )
