"""What every handler and consumer of this service reaches through the app."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from notifier.expiry import ExpiryScheduler
from notifier.hub import Hub
from shared.bus import Bus
from shared.clock import Clock
from shared.settings import Settings
from shared.tickets import TicketStore


@dataclass
class Notifier:
    settings: Settings
    clock: Clock
    tickets: TicketStore
    bus: Bus
    hub: Hub
    expiries: ExpiryScheduler


NOTIFIER = web.AppKey("notifier", Notifier)
