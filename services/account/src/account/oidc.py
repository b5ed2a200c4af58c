"""OpenID Connect: discovery, JWKS, the token endpoint (authorization_code + PKCE S256,
client_secret_basic or client_secret_post), and userinfo."""

from __future__ import annotations

import base64
import hmac
import re
from typing import Any
from urllib.parse import unquote

import jwt
from aiohttp import web

from account.codes import InvalidGrant
from account.context import ACCOUNT, Account
from shared import ids, logs
from shared.errors import AppError, InvalidRequest
from shared.registry import UnknownClient

log = logs.get(__name__)
routes = web.RouteTableDef()
TOKEN_TTL = 600
# RFC 7636 section 4.1: 43 to 128 of [A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~".
VERIFIER = re.compile(r"[A-Za-z0-9._~-]{43,128}", re.ASCII)


def _account(request: web.Request) -> Account:
    return request.app[ACCOUNT]


class InvalidClient(AppError):
    status = 401
    code = "invalid_client"
    message = "Client authentication failed."


class UnsupportedGrantType(AppError):
    code = "unsupported_grant_type"
    message = "Only grant_type=authorization_code is supported."


class InvalidToken(AppError):
    status = 401
    code = "invalid_token"
    message = "The access token is missing, invalid or expired."


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
            "response_types_supported": ["code"],
            "response_modes_supported": ["query", "web_message"],
            "grant_types_supported": ["authorization_code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "code_challenge_methods_supported": ["S256"],
            "scopes_supported": ["openid", "profile", "phone"],
            "claims_supported": [
                "sub",
                "name",
                "picture",
                "phone_number",
                "phone_number_verified",
                "auth_time",
                "nonce",
                "amr",
            ],
        },
        headers={"Cache-Control": "public, max-age=300"},
    )


@routes.get("/.well-known/jwks.json")
async def jwks(request: web.Request) -> web.Response:
    return web.json_response(
        _account(request).signing.jwks(), headers={"Cache-Control": "public, max-age=300"}
    )


def _client_credentials(request: web.Request, form: Any) -> tuple[str, str]:
    header = request.headers.get("Authorization", "")
    if header.startswith("Basic "):
        try:
            raw = base64.b64decode(header[6:], validate=True).decode()
            cid, _, secret = raw.partition(":")
            return unquote(cid), unquote(secret)
        except ValueError as exc:  # bad base64, non-ASCII text and bad UTF-8 alike
            raise InvalidClient("Malformed Basic authorization header.") from exc
    return str(form.get("client_id", "")), str(form.get("client_secret", ""))


@routes.post("/oauth/token")
async def token(request: web.Request) -> web.Response:
    acct = _account(request)
    if request.content_type != "application/x-www-form-urlencoded":
        raise InvalidRequest("Send the token request as application/x-www-form-urlencoded.")
    form = await request.post()
    client_id, secret = _client_credentials(request, form)
    if not client_id or not secret:
        raise InvalidClient("Client credentials are missing.")
    try:
        app = await acct.registry.app(client_id)
    except UnknownClient as exc:
        raise InvalidClient() from exc
    if not hmac.compare_digest(ids.sha256_hex(secret), app.client_secret_hash):
        raise InvalidClient()
    if form.get("grant_type") != "authorization_code":
        raise UnsupportedGrantType()
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
    try:
        grant = await acct.codes.redeem(
            code, client_id=client_id, redirect_uri=redirect_uri, verifier=verifier
        )
    except InvalidGrant:
        log.info("token_refused", client_id=client_id)
        raise
    user = await acct.users.get_user(grant.user_id) or {}
    now = int(acct.clock.now())
    iss = acct.settings.issuer
    profile = {
        "name": user.get("nickname"),
        "picture": user.get("avatar_url"),
        "phone_number": user.get("phone"),
        "phone_number_verified": bool(user.get("phone_verified")),
    }
    id_claims: dict[str, Any] = {
        "iss": iss,
        "sub": grant.user_id,
        "aud": client_id,
        "iat": now,
        "exp": now + TOKEN_TTL,
        "auth_time": grant.auth_time,
        "amr": ["wechat_miniprogram"],
        "azp": client_id,
        **{k: v for k, v in profile.items() if v not in (None, "")},
    }
    if grant.nonce:
        id_claims["nonce"] = grant.nonce
    access_claims = {
        "iss": iss,
        "sub": grant.user_id,
        "aud": f"{iss}/oauth/userinfo",
        "client_id": client_id,
        "iat": now,
        "exp": now + TOKEN_TTL,
        "scope": "openid profile phone",
        "jti": ids.event_id(),
    }
    with logs.bound(trace_id=grant.trace_id):
        log.info(
            "tokens_issued", client_id=client_id, user_id=grant.user_id, ticket_id=grant.ticket_id
        )
    return web.json_response(
        {
            "access_token": acct.access_tokens.sign(access_claims),
            "token_type": "Bearer",
            "expires_in": TOKEN_TTL,
            "id_token": acct.signing.sign(id_claims),
            "scope": "openid profile phone",
        },
        headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
    )


@routes.route("*", "/oauth/userinfo")
async def userinfo(request: web.Request) -> web.Response:
    if request.method not in ("GET", "POST"):
        raise web.HTTPMethodNotAllowed(request.method, ["GET", "POST"])
    acct = _account(request)
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        raise InvalidToken()
    iss = acct.settings.issuer
    try:
        claims = acct.access_tokens.verify(header[7:], audience=f"{iss}/oauth/userinfo", issuer=iss)
    except jwt.PyJWTError as exc:
        raise InvalidToken() from exc
    user = await acct.users.get_user(claims["sub"])
    if user is None:
        raise InvalidToken("The account no longer exists.")
    body = {
        "sub": claims["sub"],
        "name": user.get("nickname"),
        "picture": user.get("avatar_url"),
        "phone_number": user.get("phone"),
        "phone_number_verified": bool(user.get("phone_verified")),
    }
    return web.json_response(
        {k: v for k, v in body.items() if v not in (None, "")},
        headers={"Cache-Control": "no-store"},
    )
