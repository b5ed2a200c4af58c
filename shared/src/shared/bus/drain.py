"""Handlers that stop before the stores they use close.

A service's consumers run until the bus closes, and the bus closes after MongoDB: a message
delivered in between met a closed client. PyMongo then turned the bus's cancellation into
its own error, so the handler was retried instead of cancelled and the shutdown hung.
"""

from __future__ import annotations

import asyncio
import contextlib

from shared.bus.base import Handler
from shared.events import Event


class Draining:
    """Wraps a service's handlers. `stop` (first thing in the service's cleanup) lets the
    handlers in flight finish; a delivery after it waits, unacknowledged, to be cancelled
    with the bus, so the broker hands it to another replica or to this one's successor."""

    def __init__(self) -> None:
        self._in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._stopping = False

    def wrap(self, handler: Handler) -> Handler:
        async def run(event: Event) -> None:
            if self._stopping:
                await asyncio.Event().wait()  # until the bus cancels it
            self._in_flight += 1
            self._idle.clear()
            try:
                await handler(event)
            finally:
                self._in_flight -= 1
                if not self._in_flight:
                    self._idle.set()

        return run

    async def stop(self, grace: float = 10.0) -> None:
        """Take no more messages; wait up to `grace` seconds for those in flight."""
        self._stopping = True
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), grace)
