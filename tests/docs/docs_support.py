"""What the documentation and deployment tests compare against: the routes the four services
really register, read from their apps built without starting them. (A uniquely named module:
every test folder has its own `conftest`, so `from conftest import` would be ambiguous.)"""

from __future__ import annotations

import re
from pathlib import Path

from aiohttp import web

from devstack.settings import SERVICE_SETTINGS

ROOT = Path(__file__).resolve().parents[2]
# Service name (as in services/<name>, the Kubernetes Service and the compose service) ->
# the package that builds its app.
SERVICES = {
    "qr-issuer": "qr_issuer",
    "scan-gateway": "scan_gateway",
    "account": "account",
    "notifier": "notifier",
}
_PARAM = re.compile(r"\{(\w+)(?::[^{}]*(?:\{[^{}]*\}[^{}]*)*)?\}")


def normalise(path: str) -> str:
    """`/api/v1/tickets/{ticket:[0-9A-Za-z]{22}}` -> `/api/v1/tickets/{ticket}`."""
    return _PARAM.sub(r"{\1}", path)


def build_app(service: str) -> web.Application:
    module = __import__(f"{SERVICES[service]}.app", fromlist=["create_app"])
    # Built, never started: the built-in development secrets will do.
    app: web.Application = module.create_app(SERVICE_SETTINGS[service](environment="development"))
    return app


def service_routes() -> dict[str, set[tuple[str, str]]]:
    """Every (method, path) each service registers; HEAD (added by aiohttp for GET) left out."""
    out: dict[str, set[tuple[str, str]]] = {}
    for service in SERVICES:
        routes = set()
        for route in build_app(service).router.routes():
            info = route.resource
            if info is None or route.method == "HEAD":
                continue
            routes.add((route.method, normalise(info.canonical)))
        out[service] = routes
    return out
