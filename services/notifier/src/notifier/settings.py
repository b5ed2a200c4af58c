"""notifier's settings: Redis, the bus and its socket, and how it holds the browsers'
WebSockets; it holds no secret of its own."""

from __future__ import annotations

from typing import Literal

from shared.settings import ServiceSettings


class NotifierSettings(ServiceSettings):
    # How a waiting browser's WebSocket is held after the handshake: "lean" takes the
    # connection over from aiohttp (about 2 KiB per idle browser; refused at startup on an
    # aiohttp it was not checked against), "aiohttp" keeps aiohttp's own WebSocketResponse
    # (about 20 KiB). The browser cannot tell them apart.
    notifier_sockets: Literal["lean", "aiohttp"] = "lean"
