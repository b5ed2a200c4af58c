"""A stopping service finishes the messages it is handling and starts no new one: those wait,
unacknowledged, to be cancelled with the bus."""

from __future__ import annotations

import asyncio

from shared.bus.drain import Draining
from shared.events import TicketCancelled, new_event

EVENT = new_event("t-1", "trace-1", TicketCancelled(connection_id="c"))


async def test_stop_waits_for_the_handler_in_flight_and_runs_no_later_one() -> None:
    draining = Draining()
    started, release = asyncio.Event(), asyncio.Event()
    handled: list[str] = []

    async def handler(event: object) -> None:
        started.set()
        await release.wait()
        handled.append("done")

    run = draining.wrap(handler)
    first = asyncio.ensure_future(run(EVENT))
    await started.wait()
    # Both start before the first handler is released (tasks start in order of creation).
    stopping = asyncio.create_task(draining.stop())
    later = asyncio.ensure_future(run(EVENT))
    release.set()
    await stopping
    assert handled == ["done"]
    assert first.done()
    assert not later.done()  # held until the bus cancels it
    later.cancel()
    await asyncio.gather(later, return_exceptions=True)
    assert handled == ["done"]


async def test_stop_gives_up_on_a_handler_that_does_not_finish() -> None:
    draining = Draining()
    started = asyncio.Event()

    async def stuck(event: object) -> None:
        started.set()
        await asyncio.Event().wait()

    task = asyncio.ensure_future(draining.wrap(stuck)(EVENT))
    await started.wait()
    await draining.stop(grace=0.01)
    assert not task.done()
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
