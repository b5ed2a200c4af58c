"""Same-device login: the person is on their phone, so there is no QR to scan. The browser
that holds the ticket asks for a URL Scheme (or URL Link) that opens the mini program's
confirm page with the ticket, as a scan of the code would."""

from __future__ import annotations

from aiohttp import web

from qr_issuer.context import ISSUER
from qr_issuer.routes import TICKET_ID
from shared import logs
from shared.binding import check_binding
from shared.errors import AppError
from shared.tickets import TicketStatus
from shared.tickets.errors import TicketExpired
from shared.web import client_ip
from shared.wxapps import mini_program

log = logs.get(__name__)
routes = web.RouteTableDef()
# A link asked for per ticket, at most: every one costs WeChat quota, and one is enough
# (a second covers a person who dismissed the system's "Open WeChat?" prompt).
LINKS_PER_TICKET = 3
# WeChat refuses a link that lives less than a minute (85401).
MIN_LINK_LIFETIME = 61


class TicketNotPending(AppError):
    status = 409
    code = "ticket_not_pending"
    message = "This login is already under way or over; no link is needed."


@routes.post(f"/api/v1/tickets/{TICKET_ID}/wechat-link")
async def wechat_link(request: web.Request) -> web.Response:
    issuer = request.app[ISSUER]
    settings = issuer.settings
    ticket = await issuer.tickets.require(request.match_info["ticket"])
    check_binding(request, ticket)  # only the browser that created the ticket
    now = issuer.clock.now()
    status = ticket.status_at(now)
    if status == TicketStatus.EXPIRED:
        raise TicketExpired()
    if status != TicketStatus.PENDING:
        raise TicketNotPending()
    ip = client_ip(request, settings.trusted_proxy_hops)
    await issuer.limiter.hit("wechat-link-ip", ip, limit=settings.rate_wechat_links_per_ip, per=60)
    # Over the longest ticket lifetime (600 s): the count cannot reset while the ticket lives.
    await issuer.limiter.hit("wechat-link-ticket", ticket.id, limit=LINKS_PER_TICKET, per=600)
    conn = await issuer.registry.connection(ticket.connection_id)
    mp = mini_program(conn, settings, issuer.box)
    # The page reads the ticket from query.scene, as from a scanned mini program code.
    generate = (
        issuer.wechat.generate_urllink
        if settings.wechat_link_kind == "link"
        else issuer.wechat.generate_scheme
    )
    link = await generate(
        mp.appid,
        mp.secret,
        path=conn.page,
        query=f"scene={ticket.id}",
        expires_at=max(int(ticket.expires_at), int(now) + MIN_LINK_LIFETIME),
        env_version=conn.env_version.value,
    )
    log.info("wechat_link_issued", ticket_id=ticket.id, kind=link.kind)
    return web.json_response(
        {"url": link.url, "kind": link.kind, "expires_at": link.expires_at},
        headers={"Cache-Control": "no-store"},
    )
