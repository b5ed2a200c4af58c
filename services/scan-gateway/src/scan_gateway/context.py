"""What every request handler of this service reaches through the app."""

from __future__ import annotations

from dataclasses import dataclass, field

from aiohttp import web

from scan_gateway.outcomes import OutcomeWaiters
from scan_gateway.places import Places
from scan_gateway.sessions import SessionStore
from scan_gateway.settings import ScanGatewaySettings
from shared.bus import Bus
from shared.clock import Clock
from shared.crypto import SecretBox
from shared.ratelimit import RateLimiter
from shared.registry import Registry
from shared.tickets import TicketStore
from shared.wechat.client import WeChatClient


@dataclass
class Gateway:
    settings: ScanGatewaySettings
    clock: Clock
    tickets: TicketStore
    sessions: SessionStore
    registry: Registry
    limiter: RateLimiter
    bus: Bus
    wechat: WeChatClient
    box: SecretBox
    places: Places
    # Confirms waiting for the account service's decision (scan_gateway.outcomes).
    outcomes: OutcomeWaiters = field(default_factory=OutcomeWaiters)


GATEWAY = web.AppKey("scan_gateway", Gateway)
