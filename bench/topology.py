"""The real MiniLogin topology on this machine, each part its own process: the four
services and the WeChat sandbox (our interpreter running their packages), SecantusDB as the
MongoDB wire server, and the RabbitMQ and Redis servers that are already running."""

from __future__ import annotations

import asyncio
import contextlib
import os
import resource
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import redis.asyncio as aioredis
from pymongo import AsyncMongoClient

from account.consumers import QUEUES as ACCOUNT_QUEUES
from bench.procstat import pids_named
from devstack.seed import seed_demo
from devstack.settings import SERVICE_SETTINGS
from shared.bus import open_bus
from shared.keys import Keys
from shared.registry import Registry
from shared.settings import secret_variables

REDIS_URL = "redis://127.0.0.1:6379/0"
AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/"
SANDBOX_APPID = "wx5eb1d2c3a4f60789"
SERVICES = ("qr-issuer", "scan-gateway", "account", "notifier")
UNLIMITED = "10000000"
QUEUE_TYPE = "classic"
# The ticket page is the one CPU-bound endpoint (the QR image): two worker processes
# sharing its port let it use both cores when it is the busy one.
SERVICE_ENV = {"qr-issuer": {"ML_WORKERS": "2"}}
# Which service answers a path, as a reverse proxy in front of them would route it.
ROUTES = {
    "/api/": "qr-issuer",
    "/q/": "qr-issuer",
    "/mp/": "scan-gateway",
    "/oauth/": "account",
    "/.well-known/": "account",
    "/ws/": "notifier",
}


# Every name of every secret a service reads: a process gets only the ones its settings
# declare (the sandbox, playing WeChat, the mini program's AppSecret).
SECRETS = {v for cls in SERVICE_SETTINGS.values() for v in secret_variables(cls, aliases=True)}
SANDBOX_SECRETS = {"ML_WX_SECRET"}


def _only(env: dict[str, str], secrets: set[str]) -> dict[str, str]:
    return {k: v for k, v in env.items() if k not in SECRETS or k in secrets}


class TopologyError(RuntimeError):
    pass


# Below Linux's ephemeral range (32768-60999): a port the kernel picked for us would be the
# next outgoing connection's too, and one opened between our check and the server's bind took
# the server's place (seen once in the quick bench: "address already in use").
_LISTEN_PORTS = range(20000, 32000)
_handed_out: set[int] = set()


def free_port() -> int:
    """A port on 127.0.0.1 nothing listens on, never the same one twice in a process."""
    for _ in range(200):
        port = secrets.choice(_LISTEN_PORTS)
        if port in _handed_out:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        _handed_out.add(port)
        return port
    raise TopologyError("no free port between 20000 and 32000")


def raise_fd_limit() -> int:
    """Lift the soft open-files limit to the hard one; children started later inherit it."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


@dataclass
class Topology:
    namespace: str
    mongo_url: str
    base: dict[str, str]
    sandbox_url: str
    procs: dict[str, subprocess.Popen[bytes]]
    openids: list[str] = field(default_factory=list)

    @property
    def public(self) -> str:
        return self.base["qr-issuer"]

    def url(self, path: str) -> str:
        service = next(s for prefix, s in ROUTES.items() if path.startswith(prefix))
        return self.base[service] + path

    def pids(self) -> dict[str, int]:
        """Every process competing for the cores: ours and the infrastructure's."""
        out = {name: p.pid for name, p in self.procs.items()}
        for label, comm in (("rabbitmq (beam.smp)", "beam.smp"), ("redis-server", "redis-server")):
            for i, pid in enumerate(pids_named(comm)):
                out[label if i == 0 else f"{label} #{i + 1}"] = pid
        return out

    def spec(self) -> dict[str, Any]:
        """What the load generator process needs to know, as JSON."""
        return {
            "base": self.base,
            "sandbox": self.sandbox_url,
            "public": self.public,
            "openids": self.openids,
            "appid": SANDBOX_APPID,
        }


def _tail(log: Path) -> str:
    """The end of a process's log, for the error that says it failed."""
    return log.read_text(errors="replace")[-2000:]


def secantus_command(port: int, storage_path: str, *, sync_on_commit: bool = True) -> list[str]:
    """SecantusDB as the topology and the tests start it. `--sync-on-commit` fsyncs each
    commit's journal record before the answer, so what it acknowledged survives a kill -9 and
    a restart on the same `storage_path` (without it, the last 20-40 ms are lost unless the
    writer asks for `j: true`); on `:memory:` nothing outlives the process anyway."""
    return [
        sys.executable, "-m", "secantus", "--host", "127.0.0.1", "--port", str(port),
        "--storage-path", storage_path, "--log-level", "WARNING",
        *(["--sync-on-commit"] if sync_on_commit else []),
    ]  # fmt: skip


def _spawn(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(  # noqa: S603  # our own interpreter running known modules
            args, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )


async def _wait_ready(
    http: aiohttp.ClientSession, name: str, url: str, proc: subprocess.Popen[bytes], log: Path
) -> None:
    deadline = time.monotonic() + 60
    while True:
        if proc.poll() is not None:
            raise TopologyError(f"{name} exited: {_tail(log)}")
        with contextlib.suppress(aiohttp.ClientError, OSError):
            async with http.get(url) as r:
                if r.status == 200:
                    return
        if time.monotonic() > deadline:
            raise TopologyError(f"{name} not ready at {url}: {_tail(log)}")
        await asyncio.sleep(0.1)  # polling a process that is still starting


async def _prepare_sandbox(http: aiohttp.ClientSession, url: str, users: int) -> list[str]:
    """Lift the per-user wx.login limit and create `users` phones to log in with."""
    async with http.patch(f"{url}/__sandbox/config", json={"jscode_user_minute_limit": 10**9}) as r:
        r.raise_for_status()
    openids = []
    for i in range(users):
        async with http.post(f"{url}/__sandbox/users", json={"nickname": f"bench{i}"}) as r:
            r.raise_for_status()
            openids.append((await r.json())["openid"])
    return openids


@contextlib.asynccontextmanager
async def start_topology(users: int = 50) -> AsyncIterator[Topology]:
    raise_fd_limit()
    namespace = f"mlbench{secrets.token_hex(5)}"
    ports = {name: free_port() for name in (*SERVICES, "sandbox", "secantus")}
    base = {name: f"http://127.0.0.1:{ports[name]}" for name in SERVICES}
    sandbox_url = f"http://127.0.0.1:{ports['sandbox']}"
    mongo_url = f"mongodb://127.0.0.1:{ports['secantus']}/"
    logs = Path(tempfile.mkdtemp(prefix="mlbench-"))
    mongo_data = logs / "secantus-data"  # the logs stay for reading; this goes at the end
    env = {
        **os.environ,
        "ML_HOST": "127.0.0.1",
        "ML_REDIS_URL": REDIS_URL,
        "ML_AMQP_URL": AMQP_URL,
        "ML_MONGO_URL": mongo_url,
        "ML_MONGO_DB": namespace,
        "ML_NAMESPACE": namespace,
        "ML_PUBLIC_URL": base["qr-issuer"],
        "ML_WX_API_BASE": sandbox_url,
        "ML_LOG_LEVEL": "WARNING",
        "ML_SANDBOX_HOST": "127.0.0.1",
        "ML_SANDBOX_PORT": str(ports["sandbox"]),
        "ML_RATE_TICKETS_PER_IP": UNLIMITED,
        "ML_RATE_QR_PER_IP": UNLIMITED,
        "ML_RATE_SCANS_PER_IP": UNLIMITED,
        "ML_RATE_SCANS_PER_USER": UNLIMITED,
        "ML_NOTIFIER_SOCKETS_PER_IP": UNLIMITED,
        # One RabbitMQ node: the single-node setting (docs/operations.md).
        "ML_BUS_QUEUE_TYPE": QUEUE_TYPE,
        # The services and the sandbox share the built-in (public) development AppSecret,
        # and the other built-in secrets do: a benchmark here, never a deployment.
        "ML_ENV": "development",
    }
    env.pop("MONGO_URL", None)  # the services read it before ML_MONGO_URL
    py = sys.executable
    procs: dict[str, subprocess.Popen[bytes]] = {}
    try:
        # On disk, as a deployment's: a fault run may kill it and start it again on its data.
        procs["SecantusDB"] = _spawn(
            secantus_command(ports["secantus"], str(mongo_data)),
            _only(env, set()),
            logs / "secantus.log",
        )
        procs["wechat-sandbox"] = _spawn(
            [py, "-m", "wechat_sandbox"], _only(env, SANDBOX_SECRETS), logs / "wechat-sandbox.log"
        )
        await _wait_port(ports["secantus"], procs["SecantusDB"], logs / "secantus.log")
        mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_url)
        try:
            await seed_demo(Registry(mongo[namespace]), base["qr-issuer"], time.time())
        finally:
            await mongo.close()
        for name in SERVICES:
            own = secret_variables(SERVICE_SETTINGS[name], aliases=True)
            service_env = {
                **_only(env, own),
                **SERVICE_ENV.get(name, {}),
                "ML_PORT": str(ports[name]),
            }
            procs[name] = _spawn(
                [py, "-m", name.replace("-", "_")], service_env, logs / f"{name}.log"
            )
        async with aiohttp.ClientSession() as http:
            await _wait_ready(
                http, "wechat-sandbox", f"{sandbox_url}/__sandbox/health",
                procs["wechat-sandbox"], logs / "wechat-sandbox.log",
            )  # fmt: skip
            for name in SERVICES:
                await _wait_ready(
                    http, name, f"{base[name]}/internal/{name}/readyz", procs[name],
                    logs / f"{name}.log",
                )  # fmt: skip
            openids = await _prepare_sandbox(http, sandbox_url, users)
        yield Topology(namespace, mongo_url, base, sandbox_url, procs, openids)
    finally:
        for proc in reversed(procs.values()):
            proc.terminate()
        for proc in procs.values():
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        shutil.rmtree(mongo_data, ignore_errors=True)
        await _clean_brokers(namespace)


async def _wait_port(port: int, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise TopologyError(f"SecantusDB did not start: {_tail(log)}") from None
            await asyncio.sleep(0.05)  # polling a port that is still opening
        else:
            writer.close()
            await writer.wait_closed()
            return


async def _clean_brokers(namespace: str) -> None:
    """Remove this run's Redis keys and its RabbitMQ queues and exchanges."""
    redis = aioredis.Redis.from_url(REDIS_URL)
    try:
        keys = [k async for k in redis.scan_iter(match=Keys(namespace).all(), count=1000)]
        for i in range(0, len(keys), 1000):
            await redis.delete(*keys[i : i + 1000])
    finally:
        await redis.aclose()
    bus = await open_bus(AMQP_URL, namespace, QUEUE_TYPE)
    try:
        await bus.delete_everything(ACCOUNT_QUEUES)  # type: ignore[attr-defined]  # a RabbitBus
    finally:
        await bus.close()
