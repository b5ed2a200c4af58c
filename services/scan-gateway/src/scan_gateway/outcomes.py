"""What the phone is told once it has confirmed: the account service's decision.

The account service decides after the confirm (it consumes ticket.confirmed), so the
confirm answer waits briefly for that ticket's `login.*` event: every replica hears every
outcome on its own transient queue, as the notifier does, and wakes the confirms waiting
on that ticket. The ticket itself, read again after the wake-up, is the answer (a late or
repeated event changes nothing)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from typing import Any

from shared.events import Event, EventType
from shared.tickets import Ticket, TicketStatus

# The events that say how a confirmed login ended.
OUTCOME_EVENTS = [
    EventType.LOGIN_SUCCEEDED.value,
    EventType.LOGIN_FAILED.value,
    EventType.LOGIN_BINDING_REQUIRED.value,
]
# How long a confirm waits for the decision: well under the phone's 10 s request timeout;
# past it the phone is told `pending` and asks /mp/v1/status.
CONFIRM_WAIT = 2.5

# The account service's reasons (and the notifier's), in the phone's vocabulary:
# login_only, user_disabled, wechat_refused, internal_error. The phone has a screen for each;
# anything else is a failure on our side as far as the person is concerned.
PHONE_REASONS = {
    "account_not_found": "login_only",
    "login_only": "login_only",
    "user_disabled": "user_disabled",
    "wechat_refused": "wechat_refused",
    "login_not_completed": "internal_error",
}


def phone_reason(reason: str) -> str:
    if reason in PHONE_REASONS:
        return PHONE_REASONS[reason]
    if reason.startswith("wechat_"):
        return "wechat_refused"  # a WeChat API call for this login was refused
    return "internal_error"


def outcome_of(ticket: Ticket | None) -> dict[str, Any]:
    """The `outcome` (and `reason`) fields for the phone; none for a ticket that ended
    without a decision (cancelled, expired) or is gone."""
    if ticket is None:
        return {}
    if ticket.status == TicketStatus.CONFIRMED:
        return {"outcome": "pending"}
    if ticket.status in (TicketStatus.SUCCEEDED, TicketStatus.BINDING_REQUIRED):
        return {"outcome": ticket.status.value}
    if ticket.status == TicketStatus.FAILED:
        return {"outcome": "failed", "reason": phone_reason(ticket.reason)}
    return {}


class OutcomeWaiters:
    """The confirms of this replica waiting for their ticket's decision."""

    def __init__(self) -> None:
        self._waiting: dict[str, set[asyncio.Event]] = {}

    @contextlib.contextmanager
    def watching(self, ticket_id: str) -> Iterator[asyncio.Event]:
        """An event set when `ticket_id`'s login ends. Enter it before the confirm: the
        decision may come back before the confirm's own answer does."""
        decided = asyncio.Event()
        self._waiting.setdefault(ticket_id, set()).add(decided)
        try:
            yield decided
        finally:
            waiting = self._waiting[ticket_id]
            waiting.discard(decided)
            if not waiting:
                del self._waiting[ticket_id]

    async def on_event(self, event: Event) -> None:
        for decided in self._waiting.get(event.ticket_id, ()):
            decided.set()

    def __len__(self) -> int:
        return sum(len(w) for w in self._waiting.values())


async def wait_decided(decided: asyncio.Event, seconds: float = CONFIRM_WAIT) -> None:
    """Until the decision arrives or `seconds` pass, whichever is first."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(decided.wait(), seconds)
