"""The ticket API the hosted login page calls."""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from qr_issuer import qr_png
from qr_issuer.authorization import Prompt, Scope
from qr_issuer.context import ISSUER, Issuer
from shared import ids, logs
from shared.binding import check_binding, new_binding, set_binding
from shared.errors import AppError
from shared.registry import App, Connection, QrKind
from shared.tickets import Ticket, TicketNotFound, TicketStatus
from shared.tickets.view import status_message
from shared.web import TRACE_ID, client_ip, read_json
from shared.wxapps import mini_program

log = logs.get(__name__)
routes = web.RouteTableDef()
TICKET_LIMIT = "ticket-ip"  # tickets per browser address and minute

TICKET_ID = f"{{ticket:{ids.TICKET_ID_PATTERN}}}"


class RedirectUriMismatch(AppError):
    code = "redirect_uri_mismatch"
    message = "redirect_uri is not registered for this client; it must match exactly."


class ConnectionNotEnabled(AppError):
    code = "connection_not_enabled"
    message = "This connection is not enabled for this app."


class ConnectionRequired(AppError):
    code = "connection_required"
    message = "This app has several connections: name the one to log in with in `connection`."


class CreateTicket(BaseModel):
    model_config = ConfigDict(extra="forbid")

    client_id: str = Field(min_length=1, max_length=128)
    redirect_uri: str = Field(min_length=1, max_length=2048)
    state: str = Field(default="", max_length=512)
    nonce: str = Field(default="", max_length=256)
    # BASE64URL(SHA-256(verifier)) is always exactly 43 characters; anything else could never
    # match a verifier, and the login would fail only at the token endpoint.
    code_challenge: str = Field(pattern=r"^[A-Za-z0-9_-]{43}$")
    code_challenge_method: Literal["S256"] = "S256"
    connection: str | None = Field(default=None, max_length=31)
    response_mode: Literal["query", "web_message"] = "query"
    # The old name of web_message (mode=popup), still read.
    mode: Literal["redirect", "popup"] | None = None
    scope: Scope = "openid profile phone"
    prompt: Prompt = ""
    max_age: int = Field(default=-1, ge=-1)

    @property
    def delivery(self) -> str:
        return "web_message" if self.mode == "popup" else self.response_mode


def ticket_url(public_url: str, ticket_id: str) -> str:
    """The https link a `url` code holds: WeChat opens it in the mini program."""
    return f"{public_url.rstrip('/')}/q/{ticket_id}"


def qr_content(issuer: Issuer, ticket_id: str, conn: Connection) -> str | None:
    """What the QR encodes, for the kinds drawn here."""
    if conn.qr_kind == QrKind.URL:
        return ticket_url(issuer.settings.public_url, ticket_id)
    return None


async def _render(issuer: Issuer, content: str, conn: Connection) -> bytes:
    loop = asyncio.get_running_loop()
    try:
        if qr_png.is_warm(content, conn.logo_png):
            # From cached templates a code takes well under 0.1 ms: less than a thread hop.
            return qr_png.render_png(content, conn.logo_png)
        return await loop.run_in_executor(
            issuer.executor, qr_png.render_png, content, conn.logo_png
        )
    except ValueError:
        # A broken logo must not stop logins: fall back to a plain code.
        log.warning("qr_logo_invalid", connection_id=conn.id)
        return await loop.run_in_executor(issuer.executor, qr_png.render_png, content, None)


_NO_DATA_URL = b'"data_url": null'


def _with_data_url(body: bytes, image: bytes | None) -> bytes:
    """Put the PNG into the encoded response as a data URL. Base64 needs no JSON escaping,
    so its bytes go in as they are: json.dumps would scan ~10 kB of it for nothing.
    The marker cannot occur inside a JSON string (its quotes would be escaped there)."""
    if image is None:
        return body
    data_url = b'"data_url": "data:image/png;base64,' + base64.b64encode(image) + b'"'
    return body.replace(_NO_DATA_URL, data_url, 1)


def _pick(conns: list[Connection], wanted: str | None) -> Connection | None:
    return next((c for c in conns if wanted in (None, c.id)), None)


async def _what_to_issue(
    issuer: Issuer, request: web.Request
) -> tuple[CreateTicket, App, Connection]:
    body = await read_json(request, CreateTicket)
    app = await issuer.registry.app(body.client_id)
    if body.redirect_uri not in app.redirect_uris:
        raise RedirectUriMismatch()
    conns = await issuer.registry.connections_for_app(app.client_id)
    if body.connection is None and len(conns) > 1:
        # Never one picked for the person: the site names it (the hosted page asks them).
        raise ConnectionRequired(
            details=[{"field": "connection", "choices": [c.id for c in conns]}]
        )
    conn = _pick(conns, body.connection)
    if conn is None and body.connection:
        fresh = await issuer.registry.connections_for_app(app.client_id, fresh=True)
        conn = _pick(fresh, body.connection)
    if conn is None:
        raise ConnectionNotEnabled()
    return body, app, conn


@routes.post("/api/v1/tickets")
async def create_ticket(request: web.Request) -> web.Response:
    issuer = request.app[ISSUER]
    settings = issuer.settings
    ip = client_ip(request, settings.trusted_proxy_hops)
    limit = settings.rate_tickets_per_ip
    try:
        body, app, conn = await _what_to_issue(issuer, request)
    except AppError:
        # Refused requests count against the address's limit too, and past it the answer
        # is 429, as when the limit was checked first.
        await issuer.limiter.hit(TICKET_LIMIT, ip, limit=limit, per=60)
        raise

    binding = new_binding()
    now = issuer.clock.now()
    ticket = Ticket(
        id=ids.ticket_id(),
        status=TicketStatus.PENDING,
        version=1,
        connection_id=conn.id,
        client_id=body.client_id,
        redirect_uri=body.redirect_uri,
        state=body.state,
        code_challenge=body.code_challenge,
        nonce=body.nonce,
        binding_hash=ids.sha256_hex(binding),
        created_at=now,
        expires_at=now + conn.ticket_ttl,
        trace_id=request[TRACE_ID],
        pc_ip=ip,
        pc_user_agent=request.headers.get("User-Agent", "")[:512],
        response_mode=body.delivery,
        scope=body.scope,
        prompt=body.prompt,
        max_age=body.max_age,
        web_origins=" ".join(app.web_origins),  # pages of the app that may open its socket
    )
    # The limit is counted in the same round trip; past it nothing is stored or drawn. The
    # store announces ticket.issued through the outbox: creating never waits on the broker.
    window = issuer.limiter.window(TICKET_LIMIT, ip, limit=limit, per=60)
    await issuer.tickets.create(ticket, settings.ticket_retention, count=window)
    content = qr_content(issuer, ticket.id, conn)
    # The `url` code is handed back inline: the page shows it without a second request.
    image = await _render(issuer, content, conn) if content else None
    log.info("ticket_issued", ticket_id=ticket.id, connection_id=conn.id, client_id=body.client_id)
    doc = {
        "ticket": ticket.id,
        "status": ticket.status.value,
        "expires_at": ticket.expires_at,
        # The countdown runs from this, not from expires_at and the browser's own clock.
        "expires_in": conn.ticket_ttl,
        "connection": {"id": conn.id, "display_name": conn.display_name},
        "qr": {
            "kind": conn.qr_kind.value,
            "image_url": f"/api/v1/tickets/{ticket.id}/qr.png",
            "data_url": None,
            "content": content,
        },
        "websocket_url": f"/ws/tickets/{ticket.id}",
        "status_url": f"/api/v1/tickets/{ticket.id}",
    }
    resp = web.Response(
        body=_with_data_url(json.dumps(doc).encode(), image),
        status=201,
        content_type="application/json",
        charset="utf-8",
        headers={"Cache-Control": "no-store"},
    )
    https = settings.public_url.startswith("https://")
    set_binding(resp, binding, https=https, secure=settings.cookie_secure)
    return resp


@routes.get(f"/api/v1/tickets/{TICKET_ID}")
async def ticket_status(request: web.Request) -> web.Response:
    """Polling fallback (and the benchmark's baseline): the same message the WebSocket sends."""
    issuer = request.app[ISSUER]
    ticket = await issuer.tickets.require(request.match_info["ticket"])
    check_binding(request, ticket)
    return web.json_response(
        status_message(ticket, issuer.clock.now()), headers={"Cache-Control": "no-store"}
    )


@routes.get(f"/api/v1/tickets/{TICKET_ID}/qr.png")
async def ticket_qr(request: web.Request) -> web.Response:
    issuer = request.app[ISSUER]
    ip = client_ip(request, issuer.settings.trusted_proxy_hops)
    await issuer.limiter.hit("qr-ip", ip, limit=issuer.settings.rate_qr_per_ip, per=60)
    ticket = await issuer.tickets.get(request.match_info["ticket"])
    if ticket is None:
        raise TicketNotFound()
    conn = await issuer.registry.connection(ticket.connection_id)
    if conn.qr_kind == QrKind.WXACODE:
        mp = mini_program(conn, issuer.settings, issuer.box)
        image = await issuer.wechat.get_wxacode_unlimit(
            mp.appid,
            mp.secret,
            scene=ticket.id,
            page=conn.page,
            env_version=conn.env_version.value,
            check_path=conn.env_version.value == "release",
        )
        ctype = "image/png" if image.startswith(b"\x89PNG") else "image/jpeg"
    else:
        content = qr_content(issuer, ticket.id, conn)
        assert content is not None
        image = await _render(issuer, content, conn)
        ctype = "image/png"
    return web.Response(
        body=image, content_type=ctype, headers={"Cache-Control": "private, max-age=600"}
    )
