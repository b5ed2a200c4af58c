"""GET /ws/tickets/{id}: the waiting browser's WebSocket."""

from __future__ import annotations

from aiohttp import web

from notifier.context import NOTIFIER, Notifier
from notifier.hub import BrowserSocket
from notifier.plain_socket import PlainSocket
from notifier.socket import TicketSocket, accept_key
from shared import ids, logs
from shared.binding import check_binding
from shared.events import LoginFailed, TicketExpired, new_event
from shared.tickets import IllegalTransition, Ticket, TicketNotFound, TicketStatus
from shared.tickets.model import TERMINAL
from shared.tickets.view import status_message
from shared.web import client_ip

log = logs.get(__name__)
routes = web.RouteTableDef()
# How long after its lifetime a confirmed ticket may still be finishing.
STUCK_GRACE = 15.0


async def publish_status(n: Notifier, ticket_id: str, socks: list[BrowserSocket]) -> None:
    """Read the ticket as it is now and push it to `socks`; close them when it is final."""
    ticket = await n.ticket(ticket_id)
    if ticket is not None:
        push_status(n, ticket, socks)


def push_status(n: Notifier, ticket: Ticket, socks: list[BrowserSocket]) -> None:
    msg = status_message(ticket, n.clock.now())
    final = TicketStatus(msg["status"]) in TERMINAL
    for sock in socks:
        sock.push(msg)
        if final:
            sock.close()


async def expire_now(n: Notifier, ticket_id: str) -> None:
    """The lifetime has ended: record the expiry (once, whichever replica wins) and tell."""
    subs = n.hub.get(ticket_id)
    if not subs:
        return  # every browser left; nobody to tell, and the ticket expires by itself
    ticket = await n.ticket(ticket_id)
    if ticket is None:
        return
    if ticket.status == TicketStatus.CONFIRMED:
        await _fail_if_stuck(n, ticket)
        return
    try:
        await n.tickets.transition(
            ticket_id, TicketStatus.EXPIRED, changes={"finished_at": n.clock.now()}
        )
    except IllegalTransition:
        pass  # already finished, or another replica recorded it first
    else:
        await n.bus.publish(
            new_event(ticket_id, ticket.trace_id, TicketExpired(connection_id=ticket.connection_id))
        )
    await publish_status(n, ticket_id, n.hub.get(ticket_id))


async def _fail_if_stuck(n: Notifier, ticket: Ticket) -> None:
    """Confirmed on the phone but never finished (the account service is down, or the event
    went to the dead-letter queue): after a grace period the waiting browser is told it
    failed instead of waiting for ever."""
    deadline = ticket.expires_at + STUCK_GRACE
    if n.clock.now() < deadline:
        n.expiries.watch(ticket.id, deadline)
        return
    try:
        await n.tickets.transition(
            ticket.id,
            TicketStatus.FAILED,
            changes={"reason": "login_not_completed", "finished_at": n.clock.now()},
        )
    except IllegalTransition:
        pass  # the account service finished it after all
    else:
        log.warning("login_not_completed", ticket_id=ticket.id, trace_id=ticket.trace_id)
        await n.bus.publish(
            new_event(
                ticket.id,
                ticket.trace_id,
                LoginFailed(
                    connection_id=ticket.connection_id,
                    client_id=ticket.client_id,
                    reason="login_not_completed",
                ),
            )
        )
    await publish_status(n, ticket.id, n.hub.get(ticket.id))


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
