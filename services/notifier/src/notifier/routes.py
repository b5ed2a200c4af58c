"""GET /ws/tickets/{id}: the waiting browser's WebSocket."""

from __future__ import annotations

from aiohttp import web

from notifier.context import NOTIFIER
from notifier.hub import BrowserSocket
from notifier.plain_socket import PlainSocket
from notifier.push import publish_status, push_status
from notifier.socket import TicketSocket, accept_key
from shared import ids, logs
from shared.binding import check_binding
from shared.tickets import TicketNotFound
from shared.web import client_ip

log = logs.get(__name__)
routes = web.RouteTableDef()


@routes.get(f"/ws/tickets/{{ticket:{ids.TICKET_ID_PATTERN}}}")
async def ticket_socket(request: web.Request) -> web.StreamResponse:
    n = request.app[NOTIFIER]
    ticket_id = request.match_info["ticket"]
    # Counted from the start, so handshakes in progress count too.
    slot = n.slots.take(ticket_id, client_ip(request, n.settings.trusted_proxy_hops))

    def gone(sock: BrowserSocket) -> None:
        slot.release()
        if n.hub.remove(sock):
            n.expiries.forget(ticket_id)

    lean: TicketSocket | None = None
    plain: PlainSocket | None = None
    sock: BrowserSocket
    try:
        # An event for this ticket that arrives before the socket is subscribed would be
        # missed; `joining` notes one, and then the ticket is read again after subscribing.
        with n.hub.joining(ticket_id) as join:
            ticket = await n.ticket(ticket_id)
            if ticket is None:
                raise TicketNotFound()
            n.origins.check(request, ticket)
            check_binding(request, ticket)
            accept_key(request)  # the same 400 on either path for a request that is no upgrade
            if n.lean_sockets:
                # From here the socket lives outside aiohttp (see notifier.socket); the
                # request, its headers and this handler are released once the first status
                # is sent.
                sock = lean = TicketSocket.take_over(request, ticket_id, gone)
            else:
                sock = plain = await PlainSocket.open(request, ticket_id, gone)
            n.hub.add(sock)
    except BaseException:
        slot.release()  # refused; a socket opened before the failure releases it too, once
        raise
    n.expiries.watch(ticket_id, ticket.expires_at)
    log.debug("browser_subscribed", trace_id=ticket.trace_id, ticket_id=ticket_id)
    try:
        if join.changed:
            await publish_status(n, ticket_id, [sock])  # the version check drops a duplicate
        else:
            push_status(n, ticket, [sock])
    finally:
        if lean is not None:
            lean.listen()
        if plain is not None:
            await plain.serve()  # until the socket closes, as a taken-over socket lives on
    # With the lean socket aiohttp no longer holds the connection: this is never written.
    return plain.response if plain is not None else web.Response(status=101)
