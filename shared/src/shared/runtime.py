"""What every service's app is made of: resources opened and closed by cleanup contexts,
kept under typed app keys, and one way to run an app until a signal stops it."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import multiprocessing
import os
import signal
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import aiohttp
import redis.asyncio as aioredis
from aiohttp import web
from pymongo import AsyncMongoClient

from shared import logs
from shared.bus import Bus, open_bus
from shared.bus.base import RECONNECT_SECONDS, RETRY_DELAYS
from shared.keys import Keys
from shared.mongo import open_mongo
from shared.redis import close_redis, open_redis
from shared.settings import InvalidSettings, MongoSettings, ServiceSettings
from shared.tickets.relay import OutboxRelay
from shared.web import AppRunner, metrics_app

T = TypeVar("T")
S = TypeVar("S", bound=ServiceSettings)
CleanupCtx = Callable[[web.Application], AsyncIterator[None]]


def resource(
    key: web.AppKey[T], open_: Callable[[], Awaitable[T]], close: Callable[[T], Awaitable[Any]]
) -> CleanupCtx:
    """A cleanup context that opens a resource once, stores it under `key`, closes it last.

    If the app already holds `key` (the embedded default shares one), it is left alone."""

    async def ctx(app: web.Application) -> AsyncIterator[None]:
        if key in app:
            yield
            return
        value = await open_()
        app[key] = value
        try:
            yield
        finally:
            await close(value)

    return ctx


REDIS = web.AppKey("redis", aioredis.Redis)
BUS = web.AppKey("bus", Bus)
MONGO = web.AppKey("mongo", AsyncMongoClient)
HTTP = web.AppKey("http", aiohttp.ClientSession)
RELAY = web.AppKey("relay", OutboxRelay)


def redis_ctx(url: str, timeout: float) -> CleanupCtx:
    async def open_() -> aioredis.Redis:
        return open_redis(url, timeout=timeout)

    return resource(REDIS, open_, close_redis)


def bus_ctx(
    url: str,
    namespace: str,
    queue_type: str = "quorum",
    reconnect_seconds: float = RECONNECT_SECONDS,
    retry_delays: Sequence[float] = RETRY_DELAYS,
) -> CleanupCtx:
    async def open_() -> Bus:
        return await open_bus(
            url,
            namespace,
            queue_type,
            reconnect_seconds=reconnect_seconds,
            retry_delays=retry_delays,
        )

    return resource(BUS, open_, lambda b: b.close())


def relay_ctx(namespace: str, name: str) -> CleanupCtx:
    """The outbox relay (after Redis and the bus): publishes what ticket changes wrote."""

    async def ctx(app: web.Application) -> AsyncIterator[None]:
        if RELAY in app:
            yield
            return
        relay = OutboxRelay(app[REDIS], Keys(namespace), app[BUS], name=name)
        app[RELAY] = relay
        task = asyncio.create_task(relay.run(), name="outbox-relay")
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await relay.close()

    return ctx


def mongo_ctx(url: str, timeout: float) -> CleanupCtx:
    async def open_() -> AsyncMongoClient[dict[str, Any]]:
        return open_mongo(url, timeout=timeout)

    return resource(MONGO, open_, lambda c: c.close())


def http_ctx() -> CleanupCtx:
    async def open_() -> aiohttp.ClientSession:
        return aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10, connect=3))

    return resource(HTTP, open_, lambda s: s.close())


@dataclass(frozen=True)
class Listener:
    """A second app served beside the main one, on a socket of its own."""

    app: web.Application
    host: str
    port: int


async def serve(
    app: web.Application,
    host: str,
    port: int,
    *,
    banner: str = "",
    reuse_port: bool = False,
    beside: Listener | None = None,
) -> None:
    """Run until SIGINT/SIGTERM, then shut down gracefully (cleanup contexts run). `beside`
    (the metrics listener) opens before the main socket and closes after it."""
    log = logs.get("runtime")
    runner = AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=5)
    await runner.setup()
    # (runner, host, port, backlog) in the order they start listening.
    sockets = [(runner, host, port, 4096)]
    if beside is not None:
        side = AppRunner(beside.app, access_log=None, handle_signals=False, shutdown_timeout=1)
        await side.setup()
        sockets.insert(0, (side, beside.host, beside.port, 128))
    # What startup built lives as long as the process: keep it out of the collector's full
    # passes, which otherwise walk every one of those ~100k objects (20-30 ms here) while
    # requests wait, and were the tail of the latency. A request makes a few hundred
    # short-lived objects, nearly all freed by reference counting: collecting the young
    # generation every 50,000 allocations instead of 700 cut 6-8 % of each service's CPU
    # per login in the benchmark, for a few megabytes more between collections.
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)
    try:
        for each, where, number, backlog in sockets:
            site = web.TCPSite(
                each,
                where,
                number,
                backlog=backlog,
                reuse_address=True,
                reuse_port=reuse_port or None,
            )
            await site.start()
            log.info("listening", host=where, port=number)
        if banner:
            print(banner, flush=True)  # noqa: T201  # the one line a person starting it reads
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
    finally:
        log.info("shutting_down")
        for each, *_ in reversed(sockets):
            await each.cleanup()


def infrastructure(
    settings: ServiceSettings, *, http: bool = False, name: str = ""
) -> list[CleanupCtx]:
    """The shared resources a service opens first: Redis, the bus and the outbox relay
    between them, MongoDB when its settings have it, and an HTTP client when it needs one."""
    ctxs = [
        redis_ctx(settings.redis_url.get_secret_value(), settings.redis_timeout),
        bus_ctx(
            settings.amqp_url.get_secret_value(),
            settings.namespace,
            settings.bus_queue_type,
            settings.bus_reconnect_seconds,
            settings.bus_retry_delays,
        ),
        relay_ctx(settings.namespace, name),
    ]
    if isinstance(settings, MongoSettings):
        ctxs.append(mongo_ctx(settings.mongo_url.get_secret_value(), settings.mongo_timeout))
    if http:
        ctxs.append(http_ctx())
    return ctxs


def settings_or_exit(name: str, settings_cls: type[S]) -> S:
    """`settings_cls` from the environment; a bad variable ends the program with a message
    naming it (not a traceback)."""
    try:
        return settings_cls.from_env()
    except InvalidSettings as exc:
        raise SystemExit(f"{name}: {exc}") from None


def run_service(
    name: str, settings_cls: type[S], create_app: Callable[[S], web.Application]
) -> None:
    """A service's `python -m` entry: environment -> settings -> logging -> serve.

    With ML_WORKERS > 1 it starts that many processes sharing the port (SO_REUSEPORT), so
    one service can use several cores; the kernel spreads connections between them."""
    settings = settings_or_exit(name, settings_cls)
    if settings.workers <= 1:
        _worker(name, settings_cls, create_app, reuse_port=False)
        return
    ctx = multiprocessing.get_context("spawn")
    procs = [
        ctx.Process(
            target=_worker,
            args=(name, settings_cls, create_app),
            kwargs={"reuse_port": True},
            name=f"{name}-{i}",
        )
        for i in range(settings.workers)
    ]
    for proc in procs:
        proc.start()

    def forward(signum: int, _: object) -> None:
        for proc in procs:
            if proc.pid is not None and proc.is_alive():
                os.kill(proc.pid, signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    for proc in procs:
        proc.join()


def _worker(
    name: str,
    settings_cls: type[S],
    create_app: Callable[[S], web.Application],
    *,
    reuse_port: bool,
) -> None:
    settings = settings_or_exit(name, settings_cls)
    logs.configure(name, level=settings.log_level, json=settings.log_json)
    beside = None
    if (address := settings.metrics_address) is not None:
        beside = Listener(metrics_app(name), *address)
    app = create_app(settings)
    run(serve(app, settings.host, settings.port, reuse_port=reuse_port, beside=beside))


def run(main: Coroutine[Any, Any, None]) -> None:
    """Run on uvloop where it is installed (it is a dependency on Linux), else asyncio's loop."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(main)
    else:
        uvloop.run(main)


def redis_probe(app: web.Application) -> Callable[[], Awaitable[None]]:
    """Readiness: Redis answers."""

    async def redis_ready() -> None:
        await app[REDIS].ping()

    return redis_ready


def bus_probe(app: web.Application) -> Callable[[], Awaitable[None]]:
    """The broker connection is up. Not a readiness condition: while the broker is away,
    ticket changes wait in the outbox and every request is still served (readyz says
    `degraded`), and every replica shares the broker, so none would be better to route to."""

    async def bus_ready() -> None:
        await app[BUS].ping()

    return bus_ready


def mongo_probe(app: web.Application) -> Callable[[], Awaitable[None]]:
    """Readiness: MongoDB answers."""

    async def mongo_ready() -> None:
        await app[MONGO].admin.command("ping")

    return mongo_ready
