"""One timer per notifier process for every waiting browser's ticket lifetime, and what
happens when one ends.

A task per WebSocket would cost a few KiB each; 20,000 waiting browsers share this one
task and a heap of (deadline, ticket) instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from notifier.push import publish_status
from shared import logs
from shared.clock import Clock
from shared.tickets import IllegalTransition, Ticket, TicketStatus, lifecycle

if TYPE_CHECKING:  # the context holds the scheduler
    from notifier.context import Notifier

log = logs.get(__name__)
# How long after its lifetime a confirmed ticket may still be finishing.
STUCK_GRACE = 15.0
# Why a login that never finished failed (the ticket's `reason`).
NOT_COMPLETED = "login_not_completed"


class ExpiryScheduler:
    def __init__(self, clock: Clock, on_due: Callable[[str], Coroutine[Any, Any, None]]) -> None:
        self._clock = clock
        self._on_due = on_due
        self._heap: list[tuple[float, str]] = []
        # ticket -> the deadline its live heap entry carries; entries not matching are stale
        self._deadlines: dict[str, float] = {}
        self._changed = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()

    def watch(self, ticket_id: str, deadline: float) -> None:
        if ticket_id in self._deadlines:
            return
        self._deadlines[ticket_id] = deadline
        heapq.heappush(self._heap, (deadline, ticket_id))
        if self._heap[0][1] == ticket_id:
            self._changed.set()  # a new earliest deadline: re-arm the sleep

    def forget(self, ticket_id: str) -> None:
        """No browser here waits on this ticket any more: its timer need not fire."""
        self._deadlines.pop(ticket_id, None)

    async def run(self) -> None:
        while True:
            if not self._heap:
                await self._changed.wait()
                self._changed.clear()
                continue
            deadline = self._heap[0][0]
            if self._clock.now() < deadline:
                await self._sleep_or_change(deadline)
                continue
            due, ticket_id = heapq.heappop(self._heap)
            if self._deadlines.get(ticket_id) != due:
                continue  # forgotten (every browser left) or watched again since
            del self._deadlines[ticket_id]
            task = asyncio.create_task(self._on_due(ticket_id))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _sleep_or_change(self, deadline: float) -> None:
        self._changed.clear()
        sleep = asyncio.ensure_future(self._clock.sleep_until(deadline))
        change = asyncio.ensure_future(self._changed.wait())
        try:
            await asyncio.wait({sleep, change}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for fut in (sleep, change):
                fut.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await fut


async def lifetime_ended(n: Notifier, ticket_id: str) -> None:
    """A waiting browser's ticket reached its deadline: record the expiry (once, whichever
    replica wins; the move announces it) and tell the browsers here."""
    if not n.hub.get(ticket_id):
        return  # every browser left; nobody to tell, and the ticket expires by itself
    ticket = await n.ticket(ticket_id)
    if ticket is None:
        return
    if ticket.status == TicketStatus.CONFIRMED:
        await _fail_if_stuck(n, ticket)
        return
    with contextlib.suppress(IllegalTransition):  # finished, or another replica expired it
        await lifecycle.expire(n.tickets, ticket_id)
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
        await lifecycle.fail(n.tickets, ticket.id, reason=NOT_COMPLETED)
    except IllegalTransition:
        pass  # the account service finished it after all
    else:
        log.warning("login_not_completed", ticket_id=ticket.id, trace_id=ticket.trace_id)
    await publish_status(n, ticket.id, n.hub.get(ticket.id))
