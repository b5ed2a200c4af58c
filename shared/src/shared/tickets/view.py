"""What a waiting browser is told about its ticket, over the WebSocket or by polling."""

from __future__ import annotations

from typing import Any

from shared.tickets.model import Ticket, TicketStatus


def status_message(ticket: Ticket, now: float) -> dict[str, Any]:
    status = ticket.status_at(now)
    msg: dict[str, Any] = {
        "type": "status",
        "ticket": ticket.id,
        "status": status.value,
        "version": ticket.version if status == ticket.status else ticket.version + 1,
        "expires_at": ticket.expires_at,
    }
    if ticket.scanner_openid and status in (TicketStatus.SCANNED, TicketStatus.CONFIRMED):
        msg["scanner"] = {
            "nickname": ticket.scanner_nickname or None,
            "avatar_url": ticket.scanner_avatar or None,
        }
    if (ticket.account_nickname or ticket.account_avatar) and status in (
        TicketStatus.SCANNED,
        TicketStatus.CONFIRMED,
    ):
        # Who the PC is about to be logged in as: someone scanning with their own account
        # shows up here before anything is confirmed.
        msg["account"] = {
            "nickname": ticket.account_nickname or None,
            "avatar_url": ticket.account_avatar or None,
        }
    if status == TicketStatus.SUCCEEDED:
        msg["redirect_url"] = ticket.redirect_url
    if status in (TicketStatus.FAILED, TicketStatus.BINDING_REQUIRED) and ticket.reason:
        msg["reason"] = ticket.reason
    return msg
