"""The browser-binding secret: the result of a ticket only ever reaches the browser that
created it. A random value in an HttpOnly SameSite=Strict cookie, stored only as a hash,
never in the QR code."""

from __future__ import annotations

import hmac
import re

from aiohttp import web

from shared import ids
from shared.errors import Forbidden, Unauthorized
from shared.tickets import Ticket

COOKIE = "ml_binding"
_SHAPE = re.compile(r"^[A-Za-z0-9_-]{43}$")


def binding_for(request: web.Request) -> str:
    """This browser's secret: a well-formed cookie it already has, else a new one."""
    current = request.cookies.get(COOKIE, "")
    return current if _SHAPE.match(current) else ids.secret_token()


def set_binding(response: web.StreamResponse, binding: str, *, secure: bool) -> None:
    response.set_cookie(COOKIE, binding, httponly=True, samesite="Strict", path="/", secure=secure)


def check_binding(request: web.Request, ticket: Ticket) -> None:
    binding = request.cookies.get(COOKIE)
    if not binding:
        raise Unauthorized("The browser-binding cookie is missing.")
    if not hmac.compare_digest(ids.sha256_hex(binding), ticket.binding_hash):
        raise Forbidden("This ticket belongs to another browser.")
