"""Every move of a ticket, each with the event that announces it: one call changes the
ticket and appends the event to the outbox in one atomic step (see shared.tickets.outbox).

Values the ticket holds (its connection, its client) are taken from it by the script, so
a caller passes only what it knows and the ticket does not.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from redis.asyncio.client import Pipeline

from shared.events import (
    LoginBindingRequired,
    LoginFailed,
    LoginSucceeded,
    Payload,
    TicketCancelled,
    TicketConfirmed,
    TicketExpired,
    TicketScanned,
    TicketScannerIdentified,
)
from shared.tickets.model import Ticket, TicketStatus
from shared.tickets.outbox import from_ticket
from shared.tickets.store import TicketStore

S = TicketStatus
CONNECTION = from_ticket("connection_id")
CLIENT = from_ticket("client_id")
PipelineWrites = Callable[[Pipeline], object]


async def scan(
    store: TicketStore,
    ticket_id: str,
    *,
    openid: str,
    changes: dict[str, Any],
    also: PipelineWrites | None = None,
) -> Ticket:
    """pending -> scanned by the WeChat user `openid`; ticket.scanned."""
    event = TicketScanned(connection_id=CONNECTION, openid=openid)
    changes = {**changes, "scanner_openid": openid, "scanned_at": store.clock.now()}
    return await store.transition(ticket_id, S.SCANNED, event, changes=changes, also=also)


async def confirm(
    store: TicketStore,
    ticket_id: str,
    *,
    scanner: str,
    unionid: str,
    phone: str,
    changes: dict[str, Any] | None = None,
) -> Ticket:
    """scanned -> confirmed, only by the scanner; ticket.confirmed."""
    event = TicketConfirmed(
        connection_id=CONNECTION,
        client_id=CLIENT,
        openid=scanner,
        unionid=unionid or None,
        has_phone=bool(phone),
    )
    changes = {**(changes or {}), "phone": phone, "confirmed_at": store.clock.now()}
    return await store.transition(ticket_id, S.CONFIRMED, event, scanner=scanner, changes=changes)


async def cancel(
    store: TicketStore,
    ticket_id: str,
    *,
    scanner: str = "",
    reason: str = "",
    only_from: frozenset[TicketStatus] | None = None,
    changes: dict[str, Any] | None = None,
) -> Ticket:
    """pending|scanned -> cancelled (by the scanner when `scanner` is set); ticket.cancelled."""
    changes = {**(changes or {}), "finished_at": store.clock.now()}
    if reason:
        changes["reason"] = reason
    return await store.transition(
        ticket_id,
        S.CANCELLED,
        TicketCancelled(connection_id=CONNECTION),
        scanner=scanner,
        changes=changes,
        only_from=only_from,
    )


async def expire(store: TicketStore, ticket_id: str) -> Ticket:
    """pending|scanned -> expired, once its lifetime has ended; ticket.expired."""
    changes = {"finished_at": store.clock.now()}
    event = TicketExpired(connection_id=CONNECTION)
    return await store.transition(ticket_id, S.EXPIRED, event, changes=changes)


async def identify_scanner(
    store: TicketStore, ticket_id: str, *, user_id: str, nickname: str, avatar: str
) -> Ticket:
    """While scanned: the account the scanner logs in to, for the PC to show;
    ticket.scanner_identified."""
    event = TicketScannerIdentified(connection_id=CONNECTION, user_id=user_id)
    changes = {"account_nickname": nickname, "account_avatar": avatar}
    return await store.amend(ticket_id, S.SCANNED, changes, event)


async def succeed(
    store: TicketStore,
    ticket_id: str,
    *,
    user_id: str,
    created: bool,
    redirect_url: str,
    also: PipelineWrites | None = None,
    after_binding: bool = False,
) -> Ticket:
    """confirmed -> succeeded, with the site's redirect; login.succeeded. `after_binding`:
    binding_required -> succeeded instead, once the binding page has linked or created the
    account (only that page moves a ticket on from binding_required)."""
    event = LoginSucceeded(
        connection_id=CONNECTION, client_id=CLIENT, user_id=user_id, created=created
    )
    changes = {"user_id": user_id, "redirect_url": redirect_url, "finished_at": store.clock.now()}
    source = S.BINDING_REQUIRED if after_binding else S.CONFIRMED
    return await store.transition(
        ticket_id,
        S.SUCCEEDED,
        event,
        changes=changes,
        also=also,
        only_from=frozenset({source}),
    )


async def fail(store: TicketStore, ticket_id: str, *, reason: str) -> Ticket:
    """confirmed -> failed; login.failed."""
    event = LoginFailed(connection_id=CONNECTION, client_id=CLIENT, reason=reason)
    changes = {"reason": reason, "finished_at": store.clock.now()}
    return await store.transition(
        ticket_id, S.FAILED, event, changes=changes, only_from=frozenset({S.CONFIRMED})
    )


async def refuse(store: TicketStore, ticket_id: str, *, scanner: str, reason: str) -> Ticket:
    """scanned -> failed, by the scanner's confirm, when a call the confirm needed was
    refused (WeChat refused the phone-number code: `wechat_refused:<errcode>`). The login
    ends there with `reason`, as one the account service refused would; login.failed."""
    event = LoginFailed(connection_id=CONNECTION, client_id=CLIENT, reason=reason)
    changes = {"reason": reason, "finished_at": store.clock.now()}
    return await store.transition(
        ticket_id,
        S.FAILED,
        event,
        scanner=scanner,
        changes=changes,
        only_from=frozenset({S.SCANNED}),
    )


async def require_binding(store: TicketStore, ticket_id: str, *, reason: str) -> Ticket:
    """confirmed -> binding_required; login.binding_required."""
    event = LoginBindingRequired(connection_id=CONNECTION, client_id=CLIENT)
    changes = {"reason": reason, "finished_at": store.clock.now()}
    return await store.transition(ticket_id, S.BINDING_REQUIRED, event, changes=changes)


def outcome(ticket: Ticket) -> Payload | None:
    """The event that announced how a finished login ended, or None if it has not."""
    if ticket.status == S.SUCCEEDED:
        # Whether the account was new is not kept on the ticket; told again, it is not.
        return LoginSucceeded(
            connection_id=ticket.connection_id,
            client_id=ticket.client_id,
            user_id=ticket.user_id,
            created=False,
        )
    if ticket.status == S.FAILED:
        return LoginFailed(
            connection_id=ticket.connection_id, client_id=ticket.client_id, reason=ticket.reason
        )
    if ticket.status == S.BINDING_REQUIRED:
        return LoginBindingRequired(connection_id=ticket.connection_id, client_id=ticket.client_id)
    return None


async def announce_outcome(store: TicketStore, ticket: Ticket) -> bool:
    """Announce again how `ticket`'s login ended (a redelivered ticket.confirmed whose work
    was done, but whose outcome may never have been written); False if it has not ended."""
    payload = outcome(ticket)
    if payload is None:
        return False
    await store.announce(ticket, payload)
    return True
