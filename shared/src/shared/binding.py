"""The browser-binding secret: the result of a ticket only ever reaches the browser that
created it. A random value in an HttpOnly SameSite=Strict cookie, stored only as a hash,
never in the QR code."""

from __future__ import annotations

import hmac

from aiohttp import web

from shared import ids
from shared.errors import Forbidden, Unauthorized
from shared.tickets import Ticket

COOKIE = "ml_binding"
# The name on an https origin: a browser keeps a `__Host-` cookie only if it came over
# https with Secure, Path=/ and no Domain, so no sibling subdomain or plain-http response
# can plant or overwrite it. Plain http (local development) keeps the bare name.
HOST_COOKIE = "__Host-" + COOKIE


def new_binding() -> str:
    """A fresh secret for each ticket. A value the browser sends is never kept: whoever
    planted it would know the secret of the victim's ticket (session fixation)."""
    return ids.secret_token()


def cookie_name(*, https: bool) -> str:
    return HOST_COOKIE if https else COOKIE


def set_binding(
    response: web.StreamResponse, binding: str, *, https: bool, secure: bool = False
) -> None:
    """Set the cookie; `https` (the public URL's scheme) chooses the `__Host-` name and
    Secure, `secure` asks for Secure on plain http too (behind a TLS-terminating proxy)."""
    response.set_cookie(
        cookie_name(https=https),
        binding,
        httponly=True,
        samesite="Strict",
        path="/",
        secure=https or secure,
    )


def check_binding(request: web.Request, ticket: Ticket) -> None:
    # Either name: the readers (notifier, the status API) need not know the public URL.
    # The value must hash to the ticket's own, so a planted cookie of either name fails.
    binding = request.cookies.get(HOST_COOKIE) or request.cookies.get(COOKIE)
    if not binding:
        raise Unauthorized("The browser-binding cookie is missing.")
    if not hmac.compare_digest(ids.sha256_hex(binding), ticket.binding_hash):
        raise Forbidden("This ticket belongs to another browser.")
