"""Token revocation (RFC 7009): a client ends a refresh token (and with it everything issued
from the same login) or one access token. A token that is unknown, expired or already
revoked is answered 200 as well: the client's aim, a token that no longer works, holds."""

from __future__ import annotations

import jwt
from aiohttp import web

from account.clients import authenticate, read_form
from account.context import ACCOUNT
from account.grants import split_refresh_token
from account.oidc import UnauthorizedClient
from shared import logs
from shared.errors import InvalidRequest

log = logs.get(__name__)
routes = web.RouteTableDef()


@routes.post("/oauth/revoke")
async def revoke(request: web.Request) -> web.Response:
    acct = request.app[ACCOUNT]
    form = await read_form(request)
    app = await authenticate(acct, request, form)
    token = str(form.get("token", ""))
    if not token:
        raise InvalidRequest("token is required.")
    # token_type_hint only says where to look first; both kinds are told apart by shape.
    if split_refresh_token(token) is not None:
        owner = await acct.grants.family_client(token)
        if owner is not None:
            if owner != app.client_id:
                raise UnauthorizedClient("The token was issued to another client.")
            sid = token.partition(".")[0]
            await acct.grants.revoke(sid)
            log.info("refresh_token_revoked", client_id=app.client_id, sid=sid)
    else:
        iss = acct.settings.issuer
        try:
            claims = acct.access_tokens.verify(token, audience=f"{iss}/oauth/userinfo", issuer=iss)
        except jwt.PyJWTError:
            claims = None  # not ours, or expired already: nothing left to end
        if claims is not None and claims.get("sid") and claims.get("jti"):
            if claims.get("client_id") != app.client_id:
                raise UnauthorizedClient("The token was issued to another client.")
            ttl = int(claims["exp"] - acct.clock.now()) + 1
            await acct.grants.revoke_access(str(claims["sid"]), str(claims["jti"]), ttl)
            log.info("access_token_revoked", client_id=app.client_id, sid=claims["sid"])
    return web.Response(status=200, headers={"Cache-Control": "no-store"})
