"""notifier's settings: Redis, the bus and its socket, the public origin and the proxies in
front (whose pages and addresses open sockets), and how it holds the browsers' WebSockets;
it holds no secret of its own."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from shared.settings import ProxySettings, PublicOriginSettings, ServiceSettings


class NotifierSettings(ServiceSettings, PublicOriginSettings, ProxySettings):
    # How a waiting browser's WebSocket is held after the handshake: "lean" takes the
    # connection over from aiohttp (about 2 KiB per idle browser; refused at startup on an
    # aiohttp it was not checked against), "aiohttp" keeps aiohttp's own WebSocketResponse
    # (about 20 KiB). The browser cannot tell them apart.
    notifier_sockets: Literal["lean", "aiohttp"] = "lean"
    # WebSockets one replica holds at once per ticket (a reconnect, a second tab) and per
    # client address (browsers behind one NAT share it). Raise them only for load tests.
    notifier_sockets_per_ticket: int = Field(4, ge=1)
    notifier_sockets_per_ip: int = Field(64, ge=1)
