"""What every handler and consumer of this service reaches through the app."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from aiohttp import web

from notifier.expiry import ExpiryScheduler
from notifier.hub import Hub
from notifier.settings import NotifierSettings
from shared.bus import Bus
from shared.clock import Clock
from shared.tickets import Ticket, TicketStore


@dataclass
class Notifier:
    settings: NotifierSettings
    clock: Clock
    tickets: TicketStore
    bus: Bus
    hub: Hub
    expiries: ExpiryScheduler
    # Redis reads in flight at once. Every waiting read would otherwise open its own pooled
    # connection, and a burst of handshakes grew the pool past a hundred descriptors (of a
    # process that wants one per browser); a single Redis gains nothing from more.
    reads: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(32))

    @property
    def lean_sockets(self) -> bool:
        """Browsers' sockets leave aiohttp after the handshake (notifier.socket)."""
        return self.settings.notifier_sockets == "lean"

    async def ticket(self, ticket_id: str) -> Ticket | None:
        async with self.reads:
            return await self.tickets.get(ticket_id)


NOTIFIER = web.AppKey("notifier", Notifier)
