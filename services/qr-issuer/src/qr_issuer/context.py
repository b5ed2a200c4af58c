"""What every request handler of this service reaches through the app."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from aiohttp import web

from qr_issuer.settings import QrIssuerSettings
from shared.bus import Bus
from shared.clock import Clock
from shared.crypto import SecretBox
from shared.ratelimit import RateLimiter
from shared.registry import Registry
from shared.tickets import TicketStore
from shared.wechat.client import WeChatClient


@dataclass
class Issuer:
    settings: QrIssuerSettings
    clock: Clock
    tickets: TicketStore
    registry: Registry
    limiter: RateLimiter
    bus: Bus
    wechat: WeChatClient
    box: SecretBox
    executor: ThreadPoolExecutor


ISSUER = web.AppKey("qr_issuer", Issuer)
