"""OpenID Connect: discovery, JWKS, the token endpoint (authorization_code with PKCE S256,
refresh_token for apps that opt in; confidential clients by client_secret_basic or
client_secret_post, public ones by client_id alone), and userinfo."""

from __future__ import annotations

import contextlib
import re
from typing import Any

import jwt
from aiohttp import web

from account.claims import PROFILE_CLAIMS, SCOPES, granted, narrowed, person_claims
from account.clients import CLIENT, authenticate, read_form
from account.codes import CodeGrant, CodeReused, InvalidGrant
from account.context import ACCOUNT, Account
from account.cors import preflight
from account.grants import Family, RefreshReused, new_sid
from shared import ids, logs
from shared.errors import AppError, InvalidRequest
from shared.registry import App, UnknownClient

log = logs.get(__name__)
routes = web.RouteTableDef()
TOKEN_TTL = 600
# RFC 7636 section 4.1: 43 to 128 of [A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~".
VERIFIER = re.compile(r"[A-Za-z0-9._~-]{43,128}", re.ASCII)
GRANT_TYPES = ("authorization_code", "refresh_token")
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _account(request: web.Request) -> Account:
    return request.app[ACCOUNT]


class UnsupportedGrantType(AppError):
    code = "unsupported_grant_type"
    message = "grant_type must be authorization_code or refresh_token."


class UnauthorizedClient(AppError):
    code = "unauthorized_client"
    message = "This app is not registered for refresh tokens."


class InvalidScope(AppError):
    code = "invalid_scope"
    message = "A refresh may ask only for scopes the login granted."


class InvalidToken(AppError):
    status = 401
    code = "invalid_token"
    message = "The access token is missing, invalid, expired or revoked."


class InsufficientScope(AppError):
    status = 403
    code = "insufficient_scope"
    message = "The access token was not granted the openid scope."


@routes.get("/.well-known/openid-configuration")
async def discovery(request: web.Request) -> web.Response:
    iss = _account(request).settings.issuer
    return web.json_response(
        {
            "issuer": iss,
            "authorization_endpoint": f"{iss}/login",
            "token_endpoint": f"{iss}/oauth/token",
            "userinfo_endpoint": f"{iss}/oauth/userinfo",
            "jwks_uri": f"{iss}/.well-known/jwks.json",
            "revocation_endpoint": f"{iss}/oauth/revoke",
            "end_session_endpoint": f"{iss}/oauth/logout",
            "response_types_supported": ["code"],
            "response_modes_supported": ["query", "web_message"],
            "grant_types_supported": list(GRANT_TYPES),
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": [
                "client_secret_basic",
                "client_secret_post",
                "none",
            ],
            "revocation_endpoint_auth_methods_supported": [
                "client_secret_basic",
                "client_secret_post",
                "none",
            ],
            "code_challenge_methods_supported": ["S256"],
            "authorization_response_iss_parameter_supported": True,
            "scopes_supported": list(SCOPES),
            "claims_supported": [
                "sub",
                *PROFILE_CLAIMS,
                "phone_number",
                "phone_number_verified",
                "auth_time",
                "nonce",
                "amr",
                "sid",
            ],
        },
        headers={"Cache-Control": "public, max-age=300"},
    )


@routes.get("/.well-known/jwks.json")
async def jwks(request: web.Request) -> web.Response:
    return web.json_response(
        _account(request).signing.jwks(), headers={"Cache-Control": "public, max-age=300"}
    )


@routes.post("/oauth/token")
async def token(request: web.Request) -> web.Response:
    acct = _account(request)
    form = await read_form(request)
    app = await authenticate(acct, request, form)
    grant_type = form.get("grant_type")
    if grant_type == "authorization_code":
        body = await _code_grant(acct, app, form)
    elif grant_type == "refresh_token":
        body = await _refresh_grant(acct, app, form)
    else:
        raise UnsupportedGrantType()
    return web.json_response(body, headers=NO_STORE)


async def _code_grant(acct: Account, app: App, form: Any) -> dict[str, Any]:
    code, redirect_uri, verifier = (
        str(form.get(k, "")) for k in ("code", "redirect_uri", "code_verifier")
    )
    if not code or not redirect_uri:
        raise InvalidRequest("code and redirect_uri are required.")
    # Checked before the code is looked at: redeeming takes the code out, so a malformed
    # verifier must not use it up.
    if not VERIFIER.fullmatch(verifier):
        raise InvalidRequest(
            "code_verifier must be 43 to 128 unreserved characters (RFC 7636): PKCE S256."
        )
    sid = new_sid()
    try:
        grant = await acct.codes.redeem(
            code, client_id=app.client_id, redirect_uri=redirect_uri, verifier=verifier, sid=sid
        )
    except CodeReused as exc:
        # RFC 6749 section 4.1.2: the code may have been stolen; what it gave is taken back.
        await acct.grants.revoke(exc.sid)
        log.warning("code_reused", client_id=app.client_id, sid=exc.sid)
        raise
    except InvalidGrant:
        log.info("token_refused", client_id=app.client_id)
        raise
    try:
        return await _code_tokens(acct, app, grant, sid)
    except Exception:
        # No tokens left here (a store failed on the way: a 503 the client retries). The
        # code goes back, or that retry would be refused as a stolen code's second use.
        with contextlib.suppress(Exception):
            if await acct.codes.put_back(code, grant, sid=sid, now=acct.clock.now()):
                await acct.grants.revoke(sid)  # a refresh family begun, never handed out
                log.info("code_put_back", client_id=app.client_id)
        raise


async def _code_tokens(acct: Account, app: App, grant: CodeGrant, sid: str) -> dict[str, Any]:
    scope = granted(grant.scope)
    refresh = None
    if app.refresh_tokens:
        family = Family(sid, app.client_id, grant.user_id, scope, grant.auth_time)
        refresh = await acct.grants.start_family(family, ttl=acct.settings.refresh_token_ttl)
    # Read at or after the login: a profile it refreshed shows in these tokens.
    user = await acct.users.get_user(grant.user_id, since=grant.auth_time) or {}
    with logs.bound(trace_id=grant.trace_id):
        log.info(
            "tokens_issued",
            client_id=app.client_id,
            user_id=grant.user_id,
            ticket_id=grant.ticket_id,
        )
    return _tokens(
        acct,
        app,
        sid=sid,
        user_id=grant.user_id,
        user=user,
        scope=scope,
        auth_time=grant.auth_time,
        nonce=grant.nonce,
        refresh=refresh,
    )


async def _refresh_grant(acct: Account, app: App, form: Any) -> dict[str, Any]:
    if not app.refresh_tokens:
        raise UnauthorizedClient()
    presented = str(form.get("refresh_token", ""))
    if not presented:
        raise InvalidRequest("refresh_token is required.")
    asked = str(form.get("scope", "")).strip()
    # A scope wider than the login's is refused before the token is used up by rotation.
    if asked and (have := await acct.grants.scope_of(presented)) and not narrowed(have, asked):
        raise InvalidScope()
    try:
        family, fresh = await acct.grants.rotate(
            presented, client_id=app.client_id, ttl=acct.settings.refresh_token_ttl
        )
    except RefreshReused:
        log.warning("refresh_token_reused", client_id=app.client_id)
        raise
    try:
        return await _refreshed_tokens(acct, app, family, fresh, asked)
    except InvalidGrant:
        raise  # the account disabled or gone: the login was revoked on purpose
    except Exception:
        # The new token never left (a store failed on the way: a 503 the client retries
        # with the token it holds, which must not look like a stolen copy's reuse).
        with contextlib.suppress(Exception):
            if await acct.grants.roll_back(presented, fresh):
                log.info("refresh_rolled_back", client_id=app.client_id)
        raise


async def _refreshed_tokens(
    acct: Account, app: App, family: Family, fresh: str, asked: str
) -> dict[str, Any]:
    scope = (narrowed(family.scope, asked) if asked else None) or family.scope
    # As fresh as a login would read it: an account disabled since stops refreshing too.
    user = await acct.users.get_user(
        family.user_id, since=acct.clock.now() - acct.users.recheck_seconds
    )
    if user is None:
        await acct.grants.revoke(family.sid)
        raise InvalidGrant("The account no longer exists.")
    if user.get("disabled"):
        await acct.grants.revoke(family.sid)
        raise InvalidGrant("The account is disabled.")
    log.info("tokens_refreshed", client_id=app.client_id, user_id=family.user_id)
    return _tokens(
        acct,
        app,
        sid=family.sid,
        user_id=family.user_id,
        user=user,
        scope=scope,
        auth_time=family.auth_time,
        nonce="",  # OpenID Connect Core 12.2: a refreshed ID token carries no nonce
        refresh=fresh,
    )


def _tokens(
    acct: Account,
    app: App,
    *,
    sid: str,
    user_id: str,
    user: dict[str, Any],
    scope: str,
    auth_time: int,
    nonce: str,
    refresh: str | None,
) -> dict[str, Any]:
    now = int(acct.clock.now())
    iss = acct.settings.issuer
    access_claims = {
        "iss": iss,
        "sub": user_id,
        "aud": f"{iss}/oauth/userinfo",
        "client_id": app.client_id,
        "iat": now,
        "exp": now + TOKEN_TTL,
        "scope": scope,
        "sid": sid,
        "jti": ids.event_id(),
    }
    body: dict[str, Any] = {
        "access_token": acct.access_tokens.sign(access_claims),
        "token_type": "Bearer",
        "expires_in": TOKEN_TTL,
        "scope": scope,
    }
    if "openid" in scope.split():
        id_claims: dict[str, Any] = {
            "iss": iss,
            "sub": user_id,
            "aud": app.client_id,
            "iat": now,
            "exp": now + TOKEN_TTL,
            "auth_time": auth_time,
            "amr": ["wechat_miniprogram"],
            "azp": app.client_id,
            "sid": sid,
            **person_claims(user, scope),
        }
        if nonce:
            id_claims["nonce"] = nonce
        body["id_token"] = acct.signing.sign(id_claims)
    if refresh is not None:
        body["refresh_token"] = refresh
    return body


async def _bearer(request: web.Request) -> str:
    """The access token: in the Authorization header, or (RFC 6750 section 2.2) in a POST's
    form body; not both."""
    header = request.headers.get("Authorization", "")
    in_body = ""
    if request.method == "POST" and request.content_type == "application/x-www-form-urlencoded":
        in_body = str((await request.post()).get("access_token", ""))
    if header.startswith("Bearer ") and not in_body:
        return header[7:]
    if in_body and not header:
        return in_body
    raise InvalidToken()


@routes.route("*", "/oauth/userinfo")
async def userinfo(request: web.Request) -> web.Response:
    if request.method == "OPTIONS":
        return await preflight(request)
    if request.method not in ("GET", "POST"):
        raise web.HTTPMethodNotAllowed(request.method, ["GET", "POST", "OPTIONS"])
    acct = _account(request)
    presented = await _bearer(request)
    iss = acct.settings.issuer
    try:
        claims = acct.access_tokens.verify(presented, audience=f"{iss}/oauth/userinfo", issuer=iss)
    except jwt.PyJWTError as exc:
        raise InvalidToken() from exc
    try:
        request[CLIENT] = await acct.registry.app(str(claims.get("client_id", "")))
    except UnknownClient as exc:
        raise InvalidToken("The app this token was issued to no longer exists.") from exc
    sid, jti = str(claims.get("sid", "")), str(claims.get("jti", ""))
    if sid and await acct.grants.access_refused(sid, jti):
        raise InvalidToken("The access token was revoked.")
    scope = str(claims.get("scope", ""))
    if "openid" not in scope.split():
        raise InsufficientScope()
    user = await acct.users.get_user(claims["sub"])
    if user is None:
        raise InvalidToken("The account no longer exists.")
    return web.json_response(
        {"sub": claims["sub"], **person_claims(user, scope)}, headers={"Cache-Control": "no-store"}
    )
