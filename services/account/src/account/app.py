from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from aiohttp import web

from account import (
    admin,
    admin_audit,
    admin_users,
    binding_page,
    cors,
    logout,
    oidc,
    revocation,
    try_login,
)
from account.audit import ENDED_QUEUE, AuditLog, on_ticket_ended
from account.codes import CodeStore
from account.consumers import QUEUE, SCANNED_QUEUE, on_ticket_confirmed, on_ticket_scanned
from account.context import ACCOUNT, Account
from account.grants import GrantStore
from account.local_accounts import LocalAccounts
from account.settings import AccountSettings
from account.signin_throttle import SignInThrottle
from account.signing import AccessTokenKey, SigningKey
from account.users import UserStore
from shared.bus.drain import Draining
from shared.clock import Clock, SystemClock
from shared.crypto import SecretBox
from shared.events import Event, EventType
from shared.keys import Keys
from shared.ratelimit import RateLimiter
from shared.registry import Registry
from shared.runtime import (
    BUS,
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


def install(app: web.Application, settings: AccountSettings, clock: Clock) -> None:
    async def account_ctx(app: web.Application) -> AsyncIterator[None]:
        keys = Keys(settings.namespace)
        db = app[MONGO][settings.mongo_db]
        acct = Account(
            settings=settings,
            clock=clock,
            tickets=TicketStore(app[REDIS], keys, clock, written=app[RELAY].kick),
            registry=Registry(db),
            users=UserStore(db, clock=clock.now),
            codes=CodeStore(app[REDIS], keys),
            grants=GrantStore(app[REDIS], keys, access_ttl=oidc.TOKEN_TTL),
            signing=SigningKey.load_or_generate(
                settings.jwt_private_key_file, settings.jwt_published_key_files
            ),
            access_tokens=AccessTokenKey(
                settings.secret_key.get_secret_value(),
                tuple(k.get_secret_value() for k in settings.previous_secret_keys),
            ),
            bus=app[BUS],
            box=SecretBox.from_settings(settings),
            limiter=RateLimiter(app[REDIS], keys, clock),
            local_accounts=LocalAccounts(db, clock),
            sign_in_throttle=SignInThrottle(app[REDIS], keys, clock),
            audit=AuditLog(db, clock, settings.audit_retention_days),
        )
        await acct.users.ensure_indexes()
        await acct.registry.ensure_indexes()
        await acct.local_accounts.ensure_indexes()
        await acct.audit.ensure_indexes()
        app[ACCOUNT] = acct

        async def handle(event: Event) -> None:
            await on_ticket_confirmed(acct, event)

        async def handle_scanned(event: Event) -> None:
            await on_ticket_scanned(acct, event)

        async def handle_ended(event: Event) -> None:
            await on_ticket_ended(acct.audit, acct.tickets, event)

        # Durable queues shared by all account replicas: each ticket event is handled once.
        # The handlers use MongoDB, which closes before the bus: they stop first.
        draining = Draining()
        await acct.bus.consume(QUEUE, [EventType.TICKET_CONFIRMED.value], draining.wrap(handle))
        await acct.bus.consume(
            SCANNED_QUEUE, [EventType.TICKET_SCANNED.value], draining.wrap(handle_scanned)
        )
        await acct.bus.consume(
            ENDED_QUEUE,
            [
                EventType.TICKET_CANCELLED.value,
                EventType.TICKET_EXPIRED.value,
                EventType.LOGIN_FAILED.value,
            ],
            draining.wrap(handle_ended),
        )
        login_times = asyncio.create_task(acct.users.write_behind(), name="login-times")
        yield
        await draining.stop()
        login_times.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await login_times

    app.cleanup_ctx.extend([*infrastructure(settings, name="account"), account_ctx])

    app.router.add_routes(oidc.routes)
    app.router.add_routes(revocation.routes)
    app.router.add_routes(logout.routes)
    app.router.add_routes(try_login.routes)
    app.router.add_routes(binding_page.routes)
    app.router.add_routes(cors.routes)
    app.on_response_prepare.append(cors.add_headers)
    app.router.add_routes(admin.routes)
    app.router.add_routes(admin_users.routes)
    app.router.add_routes(admin_audit.routes)
    app.router.add_routes(
        health_routes(
            "/internal/account",
            [mongo_probe(app), redis_probe(app)],
            metrics=settings.development,
            degraded_by=[bus_probe(app)],
        )
    )


def create_app(settings: AccountSettings, clock: Clock | None = None) -> web.Application:
    app = web.Application(
        middlewares=middlewares("account", max_in_flight=settings.max_in_flight),
        client_max_size=512 * 1024,
    )
    hide_server_version(app)
    install(app, settings, clock or SystemClock())
    return app
