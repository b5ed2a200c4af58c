from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from aiohttp import web

from notifier import aiohttp_takeover, routes
from notifier.context import NOTIFIER, Notifier
from notifier.expiry import ExpiryScheduler, lifetime_ended
from notifier.hub import HEARTBEAT, Hub
from notifier.push import tell_waiting
from notifier.settings import NotifierSettings
from shared.clock import Clock, SystemClock
from shared.events import Event, EventType
from shared.keys import Keys
from shared.runtime import BUS, REDIS, RELAY, bus_probe, infrastructure, redis_probe
from shared.tickets import TicketStore
from shared.web import health_routes, hide_server_version, middlewares

BROWSER_EVENTS = [t.value for t in EventType if t != EventType.TICKET_ISSUED]


async def _heartbeat(hub: Hub) -> None:
    """One timer pings every socket (a timer per socket cost memory per browser)."""
    while True:
        await asyncio.sleep(HEARTBEAT)
        hub.heartbeat()


def install(app: web.Application, settings: NotifierSettings, clock: Clock) -> None:
    async def notifier_ctx(app: web.Application) -> AsyncIterator[None]:
        n: Notifier

        async def expire(ticket_id: str) -> None:
            await lifetime_ended(n, ticket_id)

        n = Notifier(
            settings=settings,
            clock=clock,
            tickets=TicketStore(
                app[REDIS], Keys(settings.namespace), clock, written=app[RELAY].kick
            ),
            bus=app[BUS],
            hub=Hub(),
            expiries=ExpiryScheduler(clock, expire),
        )
        app[NOTIFIER] = n

        async def on_event(event: Event) -> None:
            if n.hub.event(event.ticket_id):
                await tell_waiting(n, event.ticket_id)

        # Every replica gets every change of a ticket on its own queue and serves its own
        # browsers. ticket.issued is left out: no browser waits on a ticket before it exists.
        await n.bus.consume("notifier", BROWSER_EVENTS, on_event, exclusive=True)
        catching_up: set[asyncio.Task[None]] = set()

        async def catch_up() -> None:
            # That queue is transient: while a broker restart had it gone, changes went by
            # unseen. Every ticket a browser here waits on is read again instead.
            for ticket_id in {sock.ticket_id for sock in n.hub.sockets()}:
                await tell_waiting(n, ticket_id)

        def bus_back() -> None:
            task = asyncio.create_task(catch_up(), name="notifier-catch-up")
            catching_up.add(task)
            task.add_done_callback(catching_up.discard)

        n.bus.when_ready(bus_back)
        tasks = [
            asyncio.create_task(n.expiries.run(), name="notifier-expiries"),
            asyncio.create_task(_heartbeat(n.hub), name="notifier-heartbeat"),
        ]
        yield
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def going_away(app: web.Application) -> None:
        # Browsers are told to reconnect (to another replica) as the server shuts down; its
        # shutdown then waits for their closes, within the runner's shutdown_timeout: for
        # taken-over sockets through notifier.aiohttp_takeover.Fence, for aiohttp's own
        # through their request handlers.
        for sock in app[NOTIFIER].hub.sockets():
            sock.going_away()

    if settings.notifier_sockets == "lean":
        aiohttp_takeover.check_supported()
    app.on_shutdown.append(going_away)
    app.cleanup_ctx.extend([*infrastructure(settings, name="notifier"), notifier_ctx])

    app.router.add_routes(routes.routes)
    app.router.add_routes(
        health_routes(
            "/internal/notifier",
            [redis_probe(app)],
            metrics=settings.development,
            degraded_by=[bus_probe(app)],
        )
    )


def create_app(settings: NotifierSettings, clock: Clock | None = None) -> web.Application:
    app = web.Application(
        middlewares=middlewares("notifier", max_in_flight=settings.max_in_flight),
        client_max_size=16 * 1024,
    )
    hide_server_version(app)
    install(app, settings, clock or SystemClock())
    return app
