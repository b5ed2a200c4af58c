"""Which pages may open a ticket's WebSocket, by the handshake's Origin header (RFC 6454).

A WebSocket is not bound by the same-origin policy: without this check any page a person
visits could open a socket to us, and a sibling site (same site, so SameSite cookies go
with it) would get the ticket's updates with the person's binding cookie. Allowed: the
public origin (the hosted login page, and in the embedded default the demo site and the
phone simulator) and the origins the ticket's app registered (App.web_origins, copied onto
the ticket when qr-issuer issued it, so the notifier needs no MongoDB).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from aiohttp import web

from notifier.errors import OriginNotAllowed
from shared.tickets import Ticket

_DEFAULT_PORTS = {"http": 80, "https": 443}


def serialised(url: str) -> str:
    """The origin of `url` as a browser writes it in Origin: `scheme://host[:port]` in lower
    case, the scheme's default port left out; "" if `url` is no http(s) URL with a host."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:  # a port that is no number, an unclosed IPv6 literal
        return ""
    scheme, host = parts.scheme.lower(), parts.hostname  # hostname is lower case already
    if scheme not in _DEFAULT_PORTS or not host:
        return ""
    if ":" in host:
        host = f"[{host}]"  # an IPv6 literal
    return (
        f"{scheme}://{host}"
        if port in (None, _DEFAULT_PORTS[scheme])
        else f"{scheme}://{host}:{port}"
    )


class OriginPolicy:
    def __init__(self, public_url: str) -> None:
        self.public = serialised(public_url)

    def check(self, request: web.Request, ticket: Ticket) -> None:
        """Refuse the handshake of a page whose origin may not watch `ticket`."""
        origin = request.headers.get("Origin")
        # No Origin: not a browser (browsers send it on every WebSocket handshake), so not a
        # page a person was lured to; such a client (the load generator, a test) could set
        # any Origin it liked anyway. The binding cookie still decides whose ticket it is.
        if origin is None or origin == self.public:
            return
        if not origin or origin not in {serialised(o) for o in ticket.web_origins.split()}:
            raise OriginNotAllowed()
