"""Telling waiting browsers their ticket's status."""

from __future__ import annotations

from typing import TYPE_CHECKING

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


def push_status(n: Notifier, ticket: Ticket, socks: list[BrowserSocket]) -> None:
    msg = status_message(ticket, n.clock.now())
    final = TicketStatus(msg["status"]) in TERMINAL
    for sock in socks:
        sock.push(msg)
        if final:
            sock.close()
