"""The notifier's single expiry timer fires each ticket once, in deadline order, on time."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest

from notifier.expiry import ExpiryScheduler
from shared.clock import FakeClock

Fired = tuple[FakeClock, ExpiryScheduler, asyncio.Queue[str]]


@pytest.fixture
async def fired() -> AsyncIterator[Fired]:
    clock = FakeClock()
    due: asyncio.Queue[str] = asyncio.Queue()

    async def on_due(ticket_id: str) -> None:
        due.put_nowait(ticket_id)

    scheduler = ExpiryScheduler(clock, on_due)
    task = asyncio.create_task(scheduler.run())
    yield clock, scheduler, due
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def test_tickets_expire_in_deadline_order_when_time_reaches_them(fired: Fired) -> None:
    clock, scheduler, due = fired
    scheduler.watch("late", clock.now() + 100)
    scheduler.watch("early", clock.now() + 10)
    await asyncio.sleep(0)  # let the scheduler arm its sleep on the earliest deadline
    assert due.empty()

    clock.advance(10)
    assert await asyncio.wait_for(due.get(), 1) == "early"
    assert due.empty()
    clock.advance(90)
    assert await asyncio.wait_for(due.get(), 1) == "late"


async def test_a_ticket_watched_twice_fires_once(fired: Fired) -> None:
    clock, scheduler, due = fired
    scheduler.watch("t", clock.now() + 5)
    scheduler.watch("t", clock.now() + 5)
    scheduler.watch("marker", clock.now() + 6)
    clock.advance(6)
    got = [await asyncio.wait_for(due.get(), 1) for _ in range(2)]
    assert got == ["t", "marker"]
    assert due.empty()


async def test_a_deadline_already_past_fires_at_once(fired: Fired) -> None:
    clock, scheduler, due = fired
    scheduler.watch("past", clock.now() - 1)
    assert await asyncio.wait_for(due.get(), 1) == "past"


async def test_a_forgotten_ticket_does_not_fire(fired: Fired) -> None:
    clock, scheduler, due = fired
    scheduler.watch("left", clock.now() + 5)
    scheduler.watch("stays", clock.now() + 6)
    scheduler.forget("left")
    clock.advance(6)
    assert await asyncio.wait_for(due.get(), 1) == "stays"
    assert due.empty()


async def test_a_ticket_watched_again_after_forget_fires_at_its_new_deadline(
    fired: Fired,
) -> None:
    clock, scheduler, due = fired
    scheduler.watch("back", clock.now() + 5)
    scheduler.forget("back")
    scheduler.watch("back", clock.now() + 8)
    scheduler.watch("marker", clock.now() + 5)  # same instant as the forgotten deadline
    clock.advance(5)
    assert await asyncio.wait_for(due.get(), 1) == "marker"
    clock.advance(3)
    assert await asyncio.wait_for(due.get(), 1) == "back"
    assert due.empty()
