"""What every handler and consumer of this service reaches through the app."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from aiohttp import web

from notifier.expiry import ExpiryScheduler
from notifier.hub import Hub
from notifier.origins import OriginPolicy
from notifier.settings import NotifierSettings
from notifier.slots import SocketSlots
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
    # Which pages and how many sockets the handshake admits, from the settings.
    origins: OriginPolicy = field(init=False)
    slots: SocketSlots = field(init=False)

    def __post_init__(self) -> None:
        s = self.settings
        self.origins = OriginPolicy(s.public_url)
        self.slots = SocketSlots(s.notifier_sockets_per_ticket, s.notifier_sockets_per_ip)

    @property
    def lean_sockets(self) -> bool:
        """Browsers' sockets leave aiohttp after the handshake (notifier.socket)."""
        return self.settings.notifier_sockets == "lean"

    async def ticket(self, ticket_id: str) -> Ticket | None:
        async with self.reads:
            return await self.tickets.get(ticket_id)


NOTIFIER = web.AppKey("notifier", Notifier)
