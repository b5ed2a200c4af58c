from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web
from shared.clock import Clock, SystemClock
from shared.events import Event
from shared.keys import Keys
from shared.runtime import BUS, REDIS, bus_probe, infrastructure, redis_probe
from shared.settings import Settings
from shared.tickets import TicketStore
from shared.web import health_routes, middlewares

from notifier import routes
from notifier.context import NOTIFIER, Notifier
from notifier.hub import Hub


def install(app: web.Application, settings: Settings, clock: Clock) -> None:
    async def notifier_ctx(app: web.Application) -> AsyncIterator[None]:
        n = Notifier(
            settings=settings,
            clock=clock,
            tickets=TicketStore(app[REDIS], Keys(settings.namespace), clock),
            bus=app[BUS],
            hub=Hub(),
        )
        app[NOTIFIER] = n

        async def on_event(event: Event) -> None:
            subs = n.hub.get(event.ticket_id)
            if subs:
                await routes.publish_status(n, event.ticket_id, subs)

        # Every replica gets every ticket event on its own queue and serves its own browsers.
        await n.bus.consume("notifier", ["ticket.*", "login.*"], on_event, exclusive=True)
        yield
        for ws in n.hub.sockets():
            await ws.close(code=1001, message=b"server shutting down")

    app.cleanup_ctx.extend([*infrastructure(settings, mongo=False), notifier_ctx])

    app.router.add_routes(routes.routes)
    app.router.add_routes(health_routes("/internal/notifier", [redis_probe(app), bus_probe(app)]))


def create_app(settings: Settings, clock: Clock | None = None) -> web.Application:
    app = web.Application(middlewares=middlewares("notifier"), client_max_size=16 * 1024)
    install(app, settings, clock or SystemClock())
    return app
