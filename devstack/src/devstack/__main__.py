"""`make run`: the whole system in one process, with the WeChat sandbox beside it."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

from aiohttp import web

from devstack.demo_site import DEMO
from devstack.embedded import build_app
from devstack.settings import StackSettings
from shared import logs
from shared.clock import SystemClock
from shared.mongo import EmbeddedMongo
from shared.runtime import run
from shared.settings import DEV_ADMIN_TOKEN, InvalidSettings
from shared.web import AppRunner
from wechat_sandbox.app import create_app as create_sandbox


def embedded_settings() -> tuple[StackSettings, int, EmbeddedMongo | None]:
    """The embedded default's settings; starts SecantusDB unless a MongoDB URL is given."""
    try:
        port = int(os.environ.get("ML_PORT", "8000"))
        sandbox_port = int(os.environ.get("ML_SANDBOX_PORT", str(port + 1)))
    except ValueError as exc:
        raise SystemExit(f"embedded: ML_PORT, ML_SANDBOX_PORT: {exc}") from None
    public = os.environ.get("ML_PUBLIC_URL", f"http://127.0.0.1:{port}")
    env = {
        "ML_REDIS_URL": "memory://embedded",
        "ML_AMQP_URL": "memory://embedded",
        "ML_WX_API_BASE": f"http://127.0.0.1:{sandbox_port}",
        "ML_PUBLIC_URL": public,
        "ML_DEV_PHONE_SIMULATOR_URL": f"{public}/phone/",
        "ML_LOG_JSON": "0" if os.isatty(2) else "1",
        **os.environ,
        # Always: the embedded default runs on the built-in secrets, which are public.
        "ML_ENV": "development",
    }
    mongo = None
    if "MONGO_URL" not in env and "ML_MONGO_URL" not in env:
        data = Path(env.get("ML_DATA_DIR", "var/embedded-mongo"))
        data.mkdir(parents=True, exist_ok=True)
        mongo = EmbeddedMongo(str(data))
        env["ML_MONGO_URL"] = mongo.start()
    try:
        stack = StackSettings.from_env(env)
    except InvalidSettings as exc:
        if mongo is not None:
            mongo.stop()
        raise SystemExit(f"embedded: {exc}") from None
    return stack, sandbox_port, mongo


async def main() -> None:
    stack, sandbox_port, mongo = embedded_settings()
    settings = stack.qr_issuer  # the one origin and socket, as build_app serves them
    logs.configure("embedded", level=settings.log_level, json=settings.log_json)
    logs.get("embedded").warning(
        "development_only",
        detail="ML_ENV=development: built-in public secrets and admin token; never expose "
        "this to a network or use it for real users",
    )
    clock = SystemClock()
    runners = []
    try:
        for app, port in (
            (create_sandbox(clock=clock), sandbox_port),
            (
                build_app(
                    stack, clock, sandbox_url=f"http://127.0.0.1:{sandbox_port}", try_outs=True
                ),
                settings.port,
            ),
        ):
            runner = AppRunner(app, access_log=None, handle_signals=False)
            await runner.setup()
            await web.TCPSite(runner, settings.host, port, reuse_address=True).start()
            runners.append(runner)
        account = runners[-1].app[DEMO].account
        assert account is not None  # seeded at start (try_outs)
        print(  # noqa: T201  # the lines a newcomer reads
            f"\n  MiniLogin is running (embedded default).\n"
            f"  DEVELOPMENT ONLY: public built-in secrets (admin token {DEV_ADMIN_TOKEN!r});\n"
            f"  never expose it to a network. Production: see docs/operations.md.\n"
            f"  Demo site:        {settings.public_url}/demo/\n"
            f"  Phone simulator:  {settings.public_url}/phone/\n"
            f"  WeChat sandbox:   http://127.0.0.1:{sandbox_port}/__sandbox/users\n"
            f"  Demo account (to link WeChat to, on the demo's 'link my account' login):\n"
            f"    email {account.email}   password {account.password}\n"
            f"  Press Ctrl+C to stop.\n",
            flush=True,
        )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
    finally:
        for runner in reversed(runners):
            await runner.cleanup()
        if mongo is not None:
            mongo.stop()


if __name__ == "__main__":
    run(main())
