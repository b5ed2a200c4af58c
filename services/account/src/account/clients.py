"""Who is calling the token and revocation endpoints: a confidential client proves itself
with its secret (HTTP Basic or the form, RFC 6749 section 2.3.1); a public one (registered
with token_endpoint_auth_method none) names itself with client_id and has no secret, so
PKCE, which every code requires, is its proof."""

from __future__ import annotations

import base64
import hmac
from typing import Any
from urllib.parse import unquote

from aiohttp import web

from account.context import Account
from shared import ids
from shared.errors import AppError, InvalidRequest
from shared.registry import App, UnknownClient

# The client a request to a CORS-enabled endpoint turned out to come from: only its own
# registered web origins may read the answer (account.cors).
CLIENT = web.RequestKey("oauth_client", App)


class InvalidClient(AppError):
    status = 401
    code = "invalid_client"
    message = "Client authentication failed."


async def read_form(request: web.Request) -> Any:
    if request.content_type != "application/x-www-form-urlencoded":
        raise InvalidRequest("Send the request as application/x-www-form-urlencoded.")
    return await request.post()


def _presented(request: web.Request, form: Any) -> tuple[str, str | None]:
    """The client_id and the secret, if any, the request presents."""
    header = request.headers.get("Authorization", "")
    if header.startswith("Basic "):
        try:
            raw = base64.b64decode(header[6:], validate=True).decode()
        except ValueError as exc:  # bad base64, non-ASCII text and bad UTF-8 alike
            raise InvalidClient("Malformed Basic authorization header.") from exc
        cid, _, secret = raw.partition(":")
        if form.get("client_secret"):
            raise InvalidRequest("Use one way to authenticate: Basic or the form, not both.")
        return unquote(cid), unquote(secret) or None
    return str(form.get("client_id", "")), str(form.get("client_secret", "")) or None


async def authenticate(acct: Account, request: web.Request, form: Any) -> App:
    client_id, secret = _presented(request, form)
    if not client_id:
        raise InvalidClient("Client credentials are missing.")
    try:
        app = await acct.registry.app(client_id)
    except UnknownClient as exc:
        raise InvalidClient() from exc
    request[CLIENT] = app
    if app.public:
        if secret is not None:
            raise InvalidClient("This client is public: it has no secret to send.")
        return app
    if secret is None:
        raise InvalidClient("Client credentials are missing.")
    if not hmac.compare_digest(ids.sha256_hex(secret), app.client_secret_hash):
        raise InvalidClient()
    return app
