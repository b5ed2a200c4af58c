"""Every service installed on one aiohttp app, one port, one process."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

import account.app
import notifier.app
import qr_issuer.app
import scan_gateway.app
from devstack import demo_site, phone
from devstack.seed import seed_demo
from shared.clock import Clock
from shared.registry import Registry
from shared.runtime import MONGO, http_ctx
from shared.settings import Settings
from shared.web import middlewares


def build_app(settings: Settings, clock: Clock, *, sandbox_url: str) -> web.Application:
    app = web.Application(
        middlewares=middlewares("embedded", max_in_flight=settings.max_in_flight),
        client_max_size=512 * 1024,
    )
    for service in (qr_issuer.app, scan_gateway.app, account.app, notifier.app):
        service.install(app, settings, clock)

    async def devstack_ctx(app: web.Application) -> AsyncIterator[None]:
        await seed_demo(Registry(app[MONGO][settings.mongo_db]), settings.public_url, clock.now())
        app[demo_site.DEMO] = demo_site.DemoState(issuer=settings.issuer)
        yield

    app.cleanup_ctx.extend([http_ctx(), devstack_ctx])
    app[phone.PHONE_CONFIG] = {"appid": settings.wx_appid}
    app[phone.SANDBOX_URL] = sandbox_url
    app.router.add_routes(demo_site.routes)
    app.router.add_routes(phone.routes)
    return app
