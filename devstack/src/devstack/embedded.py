"""Every service installed on one aiohttp app, one port, one process."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

import account.app
import notifier.app
import qr_issuer.app
import scan_gateway.app
from devstack import demo_site, phone
from devstack.seed import BINDING_CONNECTION, seed_demo, seed_try_outs
from devstack.settings import StackSettings
from shared.clock import Clock
from shared.registry import Registry
from shared.runtime import MONGO, http_ctx
from shared.web import hide_server_version, middlewares


def build_app(
    stack: StackSettings, clock: Clock, *, sandbox_url: str, try_outs: bool = False
) -> web.Application:
    """`try_outs` (make run): also an ask-binding connection and a local demo account."""
    # The demo site and the phone simulator are served on qr-issuer's origin.
    settings = stack.qr_issuer
    app = web.Application(
        middlewares=middlewares("embedded", max_in_flight=settings.max_in_flight),
        client_max_size=512 * 1024,
    )
    hide_server_version(app)
    # Each service gets its own settings, as in its own process. The first to open Redis,
    # the bus and MongoDB opens them for all (the same URLs: one environment).
    qr_issuer.app.install(app, stack.qr_issuer, clock)
    scan_gateway.app.install(app, stack.scan_gateway, clock)
    account.app.install(app, stack.account, clock)
    notifier.app.install(app, stack.notifier, clock)

    async def devstack_ctx(app: web.Application) -> AsyncIterator[None]:
        registry = Registry(app[MONGO][settings.mongo_db])
        await seed_demo(registry, settings.public_url, clock.now())
        demo = demo_site.DemoState(issuer=settings.issuer)
        if try_outs:
            demo.account = await seed_try_outs(registry, settings.public_url, clock.now())
            demo.binding_connection = BINDING_CONNECTION
        app[demo_site.DEMO] = demo
        yield

    app.cleanup_ctx.extend([http_ctx(), devstack_ctx])
    app[phone.PHONE_CONFIG] = {"appid": settings.wx_appid}
    app[phone.SANDBOX_URL] = sandbox_url
    app.router.add_routes(demo_site.routes)
    app.router.add_routes(phone.routes)
    return app
