"""RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0): the site sends the browser
here with the ID token it holds; everything issued from that login (its refresh tokens and
access tokens) is revoked, and the browser goes back to a post_logout_redirect_uri the app
registered, with the site's state, or sees a page saying it is signed out.

There is no MiniLogin session in the browser to end: each login is its own scan."""

from __future__ import annotations

import html
from typing import Any

import jwt
from aiohttp import web

from account.consumers import with_query
from account.context import ACCOUNT, Account
from shared import logs
from shared.errors import InvalidRequest
from shared.registry import App, UnknownClient

log = logs.get(__name__)
routes = web.RouteTableDef()
SIGNED_OUT = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Signed out</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family:system-ui,sans-serif;text-align:center;margin-top:20vh">
<h1>You are signed out{site}</h1><p lang="zh">您已退出登录</p></body></html>"""


async def _params(request: web.Request) -> Any:
    if request.method == "POST":
        if request.content_type != "application/x-www-form-urlencoded":
            raise InvalidRequest("Send the logout request as application/x-www-form-urlencoded.")
        return await request.post()
    return request.query


async def _client(acct: Account, client_id: str) -> App:
    try:
        return await acct.registry.app(client_id)
    except UnknownClient as exc:
        raise InvalidRequest("client_id names no registered app.") from exc


@routes.get("/oauth/logout")
@routes.post("/oauth/logout")
async def end_session(request: web.Request) -> web.Response:
    acct = request.app[ACCOUNT]
    params = await _params(request)
    hint = str(params.get("id_token_hint", ""))
    client_id = str(params.get("client_id", ""))
    target = str(params.get("post_logout_redirect_uri", ""))
    sid = ""
    if hint:
        try:
            claims = acct.signing.read_id_token(hint, issuer=acct.settings.issuer)
        except jwt.PyJWTError as exc:
            raise InvalidRequest("id_token_hint is not an ID token this issuer signed.") from exc
        aud = claims["aud"] if isinstance(claims["aud"], str) else str(claims["aud"][0])
        if client_id and client_id != aud:
            raise InvalidRequest("client_id is not the audience of id_token_hint.")
        client_id, sid = aud, str(claims.get("sid", ""))
    app = await _client(acct, client_id) if client_id else None
    if target and (app is None or target not in app.post_logout_redirect_uris):
        raise InvalidRequest(
            "post_logout_redirect_uri must be one the app registered, named by "
            "id_token_hint or client_id."
        )
    if sid:
        # Only an ID token we signed may end a login: a bare client_id proves nothing.
        await acct.grants.revoke(sid)
        log.info("logged_out", client_id=client_id, sid=sid)
    headers = {"Cache-Control": "no-store"}
    if target:
        state = str(params.get("state", ""))
        location = with_query(target, {"state": state}) if state else target
        # No body: aiohttp's HTTPFound would carry a "302: Found" text nobody reads.
        return web.Response(status=302, headers={**headers, "Location": location})
    site = f" of {html.escape(app.name)}" if app else ""
    headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    return web.Response(
        text=SIGNED_OUT.format(site=site), content_type="text/html", headers=headers
    )
