"""GET /ws/tickets/{id}: the waiting browser's WebSocket."""

from __future__ import annotations

from aiohttp import WSMsgType, web

from notifier.context import NOTIFIER, Notifier
from notifier.hub import Subscriber
from shared import ids, logging
from shared.binding import check_binding
from shared.events import LoginFailed, TicketExpired, new_event
from shared.tickets import IllegalTransition, Ticket, TicketNotFound, TicketStatus
from shared.tickets.model import TERMINAL
from shared.tickets.view import status_message

log = logging.get(__name__)
routes = web.RouteTableDef()
# How long after its lifetime a confirmed ticket may still be finishing.
STUCK_GRACE = 15.0


async def publish_status(n: Notifier, ticket_id: str, subs: list[Subscriber]) -> None:
    """Read the ticket as it is now and push it to `subs`; close them when it is final."""
    ticket = await n.tickets.get(ticket_id)
    if ticket is None:
        return
    msg = status_message(ticket, n.clock.now())
    for sub in subs:
        await sub.push(msg)
        if TicketStatus(msg["status"]) in TERMINAL:
            await sub.ws.close()


async def expire_now(n: Notifier, ticket_id: str) -> None:
    """The lifetime has ended: record the expiry (once, whichever replica wins) and tell."""
    subs = n.hub.get(ticket_id)
    if not subs:
        return  # every browser left; nobody to tell, and the ticket expires by itself
    ticket = await n.tickets.get(ticket_id)
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
async def ticket_socket(request: web.Request) -> web.WebSocketResponse:
    n = request.app[NOTIFIER]
    ticket_id = request.match_info["ticket"]
    ticket = await n.tickets.get(ticket_id)
    if ticket is None:
        raise TicketNotFound()
    check_binding(request, ticket)

    trace_id, expires_at = ticket.trace_id, ticket.expires_at
    del ticket  # a waiting browser holds its socket for minutes: keep only what is needed

    # The heartbeat finds dead peers and keeps idle proxies from cutting the connection.
    ws = web.WebSocketResponse(heartbeat=45, max_msg_size=1024, compress=False)
    await ws.prepare(request)
    sub = Subscriber(ws)
    # Subscribe first, then read: a change between the two is pushed by the event,
    # and the version check drops whichever copy arrives second.
    n.hub.add(ticket_id, sub)
    n.expiries.watch(ticket_id, expires_at)
    log.debug("browser_subscribed", trace_id=trace_id, ticket_id=ticket_id)
    try:
        await publish_status(n, ticket_id, [sub])
        async for msg in ws:
            if msg.type == WSMsgType.TEXT and msg.data == "ping":
                await ws.send_str("pong")
    finally:
        n.hub.remove(ticket_id, sub)
        if not n.hub.get(ticket_id):
            n.expiries.forget(ticket_id)
    return ws
