from __future__ import annotations

from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor

from aiohttp import web

from qr_issuer import pages, qr_png, routes, sdk
from qr_issuer.context import ISSUER, Issuer
from qr_issuer.settings import QrIssuerSettings
from shared import ids
from shared.clock import Clock, SystemClock
from shared.crypto import SecretBox
from shared.keys import Keys
from shared.ratelimit import RateLimiter
from shared.registry import Registry
from shared.runtime import (
    BUS,
    HTTP,
    MONGO,
    REDIS,
    RELAY,
    bus_probe,
    infrastructure,
    mongo_probe,
    redis_probe,
)
from shared.tickets import TicketStore
from shared.web import health_routes, hide_server_version, middlewares
from shared.wechat.client import WeChatClient


def install(app: web.Application, settings: QrIssuerSettings, clock: Clock) -> None:
    """Add qr-issuer's routes and resources to `app` (its own, or the embedded one)."""

    async def issuer_ctx(app: web.Application) -> AsyncIterator[None]:
        keys = Keys(settings.namespace)
        redis = app[REDIS]
        executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="qr-render")
        # Every ticket URL has this length: build its templates now (~0.1 s), not in a
        # request. A connection's logo gets its own on the first ticket that shows it.
        qr_png.render_png(routes.ticket_url(settings.public_url, "0" * ids.TICKET_ID_LENGTH), None)
        app[ISSUER] = Issuer(
            settings=settings,
            clock=clock,
            tickets=TicketStore(redis, keys, clock, written=app[RELAY].kick),
            registry=Registry(app[MONGO][settings.mongo_db]),
            limiter=RateLimiter(redis, keys, clock),
            bus=app[BUS],
            wechat=WeChatClient(app[HTTP], redis, settings.wx_api_base, keys, clock),
            box=SecretBox.from_settings(settings),
            executor=executor,
        )
        yield
        executor.shutdown(wait=False, cancel_futures=True)

    app.cleanup_ctx.extend([*infrastructure(settings, http=True, name="qr-issuer"), issuer_ctx])

    app.router.add_routes(routes.routes)
    app.router.add_routes(pages.routes)
    sdk.install(app)  # /sdk/, the same-device link, CORS for a site's own page
    app.router.add_routes(
        health_routes(
            "/internal/qr-issuer",
            [mongo_probe(app), redis_probe(app)],
            metrics=settings.development,
            degraded_by=[bus_probe(app)],
        )
    )


def create_app(settings: QrIssuerSettings, clock: Clock | None = None) -> web.Application:
    app = web.Application(
        middlewares=middlewares("qr-issuer", max_in_flight=settings.max_in_flight),
        client_max_size=64 * 1024,
    )
    hide_server_version(app)
    install(app, settings, clock or SystemClock())
    return app
