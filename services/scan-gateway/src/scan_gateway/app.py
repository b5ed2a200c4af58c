from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from scan_gateway import avatars, routes
from scan_gateway.context import GATEWAY, Gateway
from scan_gateway.outcomes import OUTCOME_EVENTS
from scan_gateway.places import Places
from scan_gateway.sessions import SessionStore
from scan_gateway.settings import ScanGatewaySettings
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


def install(app: web.Application, settings: ScanGatewaySettings, clock: Clock) -> None:
    async def gateway_ctx(app: web.Application) -> AsyncIterator[None]:
        keys = Keys(settings.namespace)
        redis = app[REDIS]
        places = Places.open(settings.geoip_db)
        gw = app[GATEWAY] = Gateway(
            settings=settings,
            clock=clock,
            tickets=TicketStore(redis, keys, clock, written=app[RELAY].kick),
            sessions=SessionStore(redis, keys),
            registry=Registry(app[MONGO][settings.mongo_db]),
            limiter=RateLimiter(redis, keys, clock),
            bus=app[BUS],
            wechat=WeChatClient(app[HTTP], redis, settings.wx_api_base, keys, clock),
            box=SecretBox.from_settings(settings),
            places=places,
        )
        # Every replica hears every login's outcome (a transient queue of its own), for the
        # confirms it holds; the ticket is read again, so nothing needs redelivery.
        await gw.bus.consume(
            "scan-gateway.outcomes", OUTCOME_EVENTS, gw.outcomes.on_event, exclusive=True
        )
        yield
        places.close()

    app.cleanup_ctx.extend([*infrastructure(settings, http=True, name="scan-gateway"), gateway_ctx])

    app.router.add_routes(routes.routes)
    app.router.add_routes(avatars.routes)
    app.router.add_routes(
        health_routes(
            "/internal/scan-gateway",
            [mongo_probe(app), redis_probe(app)],
            metrics=settings.development,
            degraded_by=[bus_probe(app)],
        )
    )


def create_app(settings: ScanGatewaySettings, clock: Clock | None = None) -> web.Application:
    app = web.Application(
        middlewares=middlewares("scan-gateway", max_in_flight=settings.max_in_flight),
        client_max_size=3 * 1024 * 1024,
    )
    hide_server_version(app)
    install(app, settings, clock or SystemClock())
    return app
