"""The binding page: where a login the connection asks to bind (`binding_required`) goes on,
in the browser that made the ticket. The person links their WeChat to an account they prove
is theirs (email or phone and password), or has a new one made (not on a login-only
connection); either ends like any login, with the code for the site.

Served by the account service, which owns users and codes; the browser-binding cookie that
qr-issuer set (path /, one public origin) proves it is the ticket's own browser. Public
routes under /bind/ (the ingress sends them here). Not under /oauth/: a 401 there carries
`WWW-Authenticate: Basic`, and a browser answers that with its own password dialog."""

from __future__ import annotations

import html
import json
from importlib import resources
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from account.audit import AuditKind
from account.consumers import succeed
from account.context import ACCOUNT, Account
from account.signin import MAX_LOGIN_CHARS, sign_in
from account.users import WeChatIdentity
from shared import ids, logs
from shared.binding import check_binding
from shared.errors import AppError, Conflict, Forbidden, NotFound
from shared.registry import Connection, LoginMode
from shared.tickets import IllegalTransition, Ticket, TicketStatus
from shared.web import client_ip, page_headers, read_json, static_asset

log = logs.get(__name__)
routes = web.RouteTableDef()
_STATIC = resources.files("account").joinpath("static")
_ASSETS = {"bind.js": "application/javascript", "bind.css": "text/css"}
# How long after the login asked for a binding the page takes it (the ticket itself is kept
# longer: its lifetime and the retention after it).
BIND_WINDOW = 300
TICKET = f"{{ticket:{ids.TICKET_ID_PATTERN}}}"
HEADERS = page_headers(
    "default-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)


class BindingNotOpen(Conflict):
    code = "binding_not_open"
    message = "This login is not waiting for an account to be linked."


class BindingExpired(AppError):
    status = 410
    code = "binding_expired"
    message = "The time to link an account has passed; log in again from the site."


class NewAccountNotAllowed(Forbidden):
    code = "new_account_not_allowed"
    message = "This site lets only existing accounts log in: link yours instead."


class SignInRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    login: str = Field(min_length=1, max_length=MAX_LOGIN_CHARS)
    password: str = Field(min_length=1, max_length=1024)


class NewAccountRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")


async def _open_ticket(acct: Account, request: web.Request) -> tuple[Ticket, Connection]:
    """The ticket named in the path, if it is this browser's and waits for a binding now."""
    ticket = await acct.tickets.get(request.match_info["ticket"])
    if ticket is None:
        raise NotFound("The login is over; log in again from the site.")
    check_binding(request, ticket)
    if ticket.status != TicketStatus.BINDING_REQUIRED:
        raise BindingNotOpen()
    if acct.clock.now() > ticket.finished_at + BIND_WINDOW:
        raise BindingExpired()
    return ticket, await acct.registry.connection(ticket.connection_id)


def _scanner(ticket: Ticket) -> WeChatIdentity:
    return WeChatIdentity(
        openid=ticket.scanner_openid,
        unionid=ticket.scanner_unionid or None,
        phone=ticket.phone or None,
        nickname=ticket.scanner_nickname or None,
        avatar_url=ticket.scanner_avatar or None,
    )


async def _finish(
    acct: Account, ticket: Ticket, conn: Connection, user_id: str, *, created: bool
) -> web.Response:
    """Bind the scanner's identity to `user_id`, issue the code and end the login."""
    now = acct.clock.now()
    user_id = await acct.users.bind(conn, _scanner(ticket), user_id, now)
    try:
        done = await succeed(acct, ticket, user_id, created, now, after_binding=True)
    except IllegalTransition as exc:
        raise BindingNotOpen() from exc  # another tab finished it first
    await acct.audit.record(
        kind=AuditKind.BINDING,
        outcome="succeeded",
        reason="created_account" if created else "linked_account",
        ticket=done,
        user_id=user_id,
        new_account=created,
    )
    with logs.bound(trace_id=ticket.trace_id):
        log.info("binding_completed", ticket_id=ticket.id, user_id=user_id, created=created)
    return web.json_response({"status": done.status.value, "redirect_url": done.redirect_url})


@routes.post(f"/bind/{TICKET}/sign-in")
async def link_existing(request: web.Request) -> web.Response:
    """Link WeChat to the account the email or phone and password prove."""
    acct = request.app[ACCOUNT]
    ticket, conn = await _open_ticket(acct, request)
    body = await read_json(request, SignInRequest)
    ip = client_ip(request, acct.settings.trusted_proxy_hops)
    user_id = await sign_in(acct, body.login, body.password, ip)
    return await _finish(acct, ticket, conn, user_id, created=False)


@routes.post(f"/bind/{TICKET}/new-account")
async def create_new(request: web.Request) -> web.Response:
    """A new account for this WeChat user, where the connection lets new people in."""
    acct = request.app[ACCOUNT]
    ticket, conn = await _open_ticket(acct, request)
    await read_json(request, NewAccountRequest)
    if conn.login_mode == LoginMode.LOGIN_ONLY:
        raise NewAccountNotAllowed()
    user_id = await acct.users.create_for(_scanner(ticket), acct.clock.now())
    return await _finish(acct, ticket, conn, user_id, created=True)


@routes.get(f"/bind/{TICKET}")
async def binding_page(request: web.Request) -> web.Response:
    acct = request.app[ACCOUNT]
    try:
        ticket, conn = await _open_ticket(acct, request)
    except AppError as err:
        # A person reads this page: say what happened and what to do, not a JSON error.
        return _page({"problem": err.code}, err.status)
    config: dict[str, Any] = {
        "ticket": ticket.id,
        "site": conn.display_name,
        "canCreate": conn.login_mode != LoginMode.LOGIN_ONLY,
        "expiresIn": max(0, int(ticket.finished_at + BIND_WINDOW - acct.clock.now())),
        "lang": request.query.get("lang", "")[:5],
        "reply": {
            "redirectUri": ticket.redirect_uri,
            "mode": ticket.response_mode,
            "origin": _origin(ticket.redirect_uri),
            "state": ticket.state,
            "iss": acct.settings.issuer,
        },
    }
    return _page(config, 200)


def _origin(uri: str) -> str:
    scheme, _, rest = uri.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}"


def _page(config: dict[str, Any], status: int) -> web.Response:
    page = (_STATIC / "bind.html").read_text()
    page = page.replace("{{CONFIG}}", html.escape(json.dumps(config), quote=True))
    return web.Response(text=page, status=status, content_type="text/html", headers=HEADERS)


@routes.get("/bind/static/{name}")
async def binding_asset(request: web.Request) -> web.Response:
    return static_asset(_STATIC, request.match_info["name"], _ASSETS)
