"""What the WebSocket handshake refuses besides what every service does (shared.errors)."""

from __future__ import annotations

from shared.errors import Forbidden, RateLimited


class OriginNotAllowed(Forbidden):
    code = "origin_not_allowed"
    message = "A page of this origin may not open the ticket's WebSocket."


class TooManySockets(RateLimited):
    code = "too_many_sockets"
    message = "Too many WebSockets are open; close one or retry later."
