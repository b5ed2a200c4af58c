"""Telling waiting browsers their ticket's status."""

from __future__ import annotations

import asyncio
import itertools
from typing import TYPE_CHECKING

from shared.errors import is_store_outage
from shared.tickets import Ticket, TicketStatus
from shared.tickets.model import TERMINAL
from shared.tickets.view import status_message

if TYPE_CHECKING:  # the context holds what this module's callers pass in
    from notifier.context import Notifier
    from notifier.hub import BrowserSocket


async def publish_status(n: Notifier, ticket_id: str, socks: list[BrowserSocket]) -> None:
    """Read the ticket as it is now and push it to `socks`; close them when it is final.

    Reading it (not trusting the event) makes a duplicate or late event harmless: the browser
    drops a version it has seen."""
    ticket = await n.ticket(ticket_id)
    if ticket is not None:
        push_status(n, ticket, socks)


# Seconds between reads of a ticket Redis could not give (then the last, again and again).
REREAD_DELAYS = (0.2, 0.5, 1.0, 2.0)


async def tell_waiting(n: Notifier, ticket_id: str) -> None:
    """publish_status for an event of `ticket_id`, read again while Redis is out of reach
    and browsers here still wait on it. The event came on this replica's fan-out queue,
    which never redelivers: given up on, the change would reach the browser only at the
    ticket's end."""
    for attempt in itertools.count():
        socks = n.hub.get(ticket_id)
        if not socks:
            return
        try:
            await publish_status(n, ticket_id, socks)
            return
        except Exception as exc:
            if not is_store_outage(exc):
                raise
        await asyncio.sleep(REREAD_DELAYS[min(attempt, len(REREAD_DELAYS) - 1)])


def push_status(n: Notifier, ticket: Ticket, socks: list[BrowserSocket]) -> None:
    msg = status_message(ticket, n.clock.now())
    final = TicketStatus(msg["status"]) in TERMINAL
    for sock in socks:
        sock.push(msg)
        if final:
            sock.close()
