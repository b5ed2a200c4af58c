"""The browser SDK (/sdk/minilogin.js and its types) and what a site's own page needs to use
the ticket API from its origin: CORS with credentials for the pages the app registered.

Embedded mode works where the browser sends the binding cookie (SameSite=Strict) with the
site's requests to MiniLogin: the same origin, or another origin of the same site
(shop.example.com and login.example.com). Anywhere else the site uses the popup."""

from __future__ import annotations

from importlib import resources
from urllib.parse import urlsplit

from aiohttp import web

from qr_issuer import same_device
from qr_issuer.context import ISSUER
from qr_issuer.routes import TICKET_ID
from shared import ids
from shared.errors import is_store_outage
from shared.web import static_asset

routes = web.RouteTableDef()
_FILES = resources.files("qr_issuer").joinpath("sdk_files")
_TYPES = {
    "minilogin.js": "application/javascript",
    "minilogin.d.ts": "application/typescript",
}
PREFLIGHT_MAX_AGE = 600
_TICKETS = "/api/v1/tickets"


@routes.get("/sdk/{name}")
async def sdk_file(request: web.Request) -> web.Response:
    return static_asset(
        _FILES,
        request.match_info["name"],
        _TYPES,
        charset="utf-8",
        # A site loads it with <script src>; a page of any origin may read it.
        headers={"Access-Control-Allow-Origin": "*"},
    )


def _ticket_of(path: str) -> str | None:
    """The ticket id of a ticket API path a site's page calls, or None for creation."""
    rest = path.removeprefix(_TICKETS + "/").removesuffix("/wechat-link")
    return rest if len(rest) == ids.TICKET_ID_LENGTH and rest.isalnum() else None


def _cors_path(path: str) -> bool:
    return path == _TICKETS or (
        path.startswith(_TICKETS + "/")
        and not path.endswith("/qr.png")
        and _ticket_of(path) is not None
    )


async def preflight(request: web.Request) -> web.Response:
    """The browser's OPTIONS before a JSON POST from another origin (the origin itself is
    judged in `add_headers`)."""
    if not _cors_path(request.path):
        raise web.HTTPNotFound()
    return web.Response(
        status=204,
        headers={
            "Access-Control-Allow-Methods": "GET, POST",
            "Access-Control-Allow-Headers": "Content-Type",
            "Access-Control-Max-Age": str(PREFLIGHT_MAX_AGE),
        },
    )


async def _allowed(request: web.Request, origin: str) -> bool:
    issuer = request.app[ISSUER]
    ticket_id = _ticket_of(request.path)
    if ticket_id is None:
        # Creating a ticket reveals nothing; any registered page may. Its status and
        # result go only to the ticket's own app's pages (below, and the notifier's check).
        return await issuer.registry.origin_registered(origin)
    ticket = await issuer.tickets.get(ticket_id)
    return ticket is not None and origin in ticket.web_origins.split()


async def add_headers(request: web.Request, response: web.StreamResponse) -> None:
    """on_response_prepare: let the app's registered pages read the ticket API's answers,
    with the binding cookie (credentials) going both ways."""
    if not _cors_path(request.path):
        return
    response.headers.add("Vary", "Origin")
    origin = request.headers.get("Origin")
    public = urlsplit(request.app[ISSUER].settings.public_url)
    if not origin or origin == f"{public.scheme}://{public.netloc}":
        return  # the hosted page itself: same origin, nothing to allow
    try:
        allowed = await _allowed(request, origin)
    except Exception as exc:
        if not is_store_outage(exc):
            raise
        allowed = False  # the 503 goes out unreadable rather than as a 500
    if allowed:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Credentials"] = "true"
        response.headers["Access-Control-Expose-Headers"] = "Retry-After"


def install(app: web.Application) -> None:
    """The SDK's files, the same-device link, and CORS for the ticket API."""
    app.router.add_routes(routes)
    app.router.add_routes(same_device.routes)
    app.router.add_route("OPTIONS", _TICKETS, preflight)
    # The ticket routes' own pattern: a path no ticket route serves stays a 404, not a 405.
    app.router.add_route("OPTIONS", f"{_TICKETS}/{TICKET_ID}", preflight)
    app.router.add_route("OPTIONS", f"{_TICKETS}/{TICKET_ID}/wechat-link", preflight)
    app.on_response_prepare.append(add_headers)
