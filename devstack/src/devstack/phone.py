"""The phone simulator page: plays WeChat and our mini program against the sandbox."""

from __future__ import annotations

import html
import json
from importlib import resources

from aiohttp import web

from qr_issuer.pages import SECURITY_HEADERS
from shared.runtime import HTTP

routes = web.RouteTableDef()
PHONE_CONFIG = web.AppKey("phone_config", dict)
SANDBOX_URL = web.AppKey("sandbox_url", str)
# The few sandbox control calls the page makes, relayed so the page stays same-origin.
_RELAYED = {"users": "GET", "login-code": "POST", "phone-code": "POST"}


@routes.get("/phone/")
async def phone_page(request: web.Request) -> web.Response:
    page = resources.files("devstack").joinpath("static", "phone.html").read_text()
    config = html.escape(json.dumps(request.app[PHONE_CONFIG]), quote=True)
    return web.Response(
        text=page.replace("{{CONFIG}}", config),
        content_type="text/html",
        headers=SECURITY_HEADERS,  # as the hosted login page: no framing, no inline script
    )


@routes.get("/phone/static/{name}")
async def phone_asset(request: web.Request) -> web.Response:
    types = {"phone.js": "application/javascript", "phone.css": "text/css"}
    name = request.match_info["name"]
    if name not in types:
        raise web.HTTPNotFound()
    body = resources.files("devstack").joinpath("static", name).read_bytes()
    return web.Response(body=body, content_type=types[name])


@routes.route("*", "/phone/sandbox/{name}")
async def relay(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    if _RELAYED.get(name) != request.method:
        raise web.HTTPNotFound()
    url = f"{request.app[SANDBOX_URL]}/__sandbox/{name}"
    async with request.app[HTTP].request(
        request.method, url, data=await request.read(), headers={"Content-Type": "application/json"}
    ) as resp:
        return web.Response(
            body=await resp.read(), status=resp.status, content_type="application/json"
        )
