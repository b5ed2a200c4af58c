"""MiniLogin's own processes in the cluster: two replicas of each service, the WeChat sandbox
and SecantusDB, started the way bench/topology.py starts the single-replica topology."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pymongo import AsyncMongoClient

from bench.topology import SANDBOX_SECRETS, SECRETS, SERVICES, UNLIMITED, secantus_command
from cluster.procs import ClusterError, Proc
from devstack.seed import seed_demo
from devstack.settings import SERVICE_SETTINGS
from shared.registry import Registry
from shared.settings import secret_variables

REPLICAS = 2


def _only(env: dict[str, str], allowed: set[str]) -> dict[str, str]:
    """`env` without the secrets a process's settings do not declare."""
    return {k: v for k, v in env.items() if k not in SECRETS or k in allowed}


def common_env(
    *,
    signing_key: Path,
    namespace: str,
    public_url: str,
    amqp_url: str,
    redis_url: str,
    mongo_url: str,
    sandbox_url: str,
) -> dict[str, str]:
    return {
        "ML_HOST": "127.0.0.1",
        "ML_REDIS_URL": redis_url,
        "ML_AMQP_URL": amqp_url,
        "ML_MONGO_URL": mongo_url,
        "ML_MONGO_DB": namespace,
        "ML_NAMESPACE": namespace,
        "ML_PUBLIC_URL": public_url,
        "ML_WX_API_BASE": sandbox_url,
        # Quiet under load; ML_CLUSTER_LOG_LEVEL=INFO to follow one login through the logs.
        "ML_LOG_LEVEL": os.environ.get("ML_CLUSTER_LOG_LEVEL", "WARNING"),
        "ML_LOG_JSON": "1",
        # Every test client and fault run comes from 127.0.0.1: one IP's limits would stop it.
        "ML_RATE_TICKETS_PER_IP": UNLIMITED,
        "ML_RATE_QR_PER_IP": UNLIMITED,
        "ML_RATE_SCANS_PER_IP": UNLIMITED,
        "ML_RATE_SCANS_PER_USER": UNLIMITED,
        "ML_NOTIFIER_SOCKETS_PER_IP": UNLIMITED,
        "ML_BUS_QUEUE_TYPE": "quorum",
        "ML_BUS_RECONNECT_SECONDS": "1",
        # nginx appends the client to X-Forwarded-For: one trusted hop.
        "ML_TRUSTED_PROXY_HOPS": "1",
        "ML_JWT_PRIVATE_KEY_FILE": str(signing_key),
        # The built-in development secrets, shared with the sandbox: a test cluster, never a
        # deployment.
        "ML_ENV": "development",
    }


def write_signing_key(path: Path) -> None:
    """One RSA key for every account replica: in development each process would make its own,
    and an ID token signed by one replica would fail against the JWKS another published."""
    if path.exists():
        return
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    path.chmod(0o600)


def plan_service(
    name: str, replica: int, root: Path, port: int, metrics_port: int, env: dict[str, str]
) -> Proc:
    own = secret_variables(SERVICE_SETTINGS[name], aliases=True)
    proc_env = {
        **_only(env, own),
        "ML_PORT": str(port),
        "ML_METRICS_PORT": str(metrics_port),
        "ML_METRICS_HOST": "127.0.0.1",
    }
    argv = [sys.executable, "-m", name.replace("-", "_")]
    return Proc(f"{name}-{replica}", argv, str(root / f"{name}-{replica}.log"), proc_env)


def plan_sandbox(root: Path, port: int, env: dict[str, str]) -> Proc:
    sandbox_env = {
        **_only(env, SANDBOX_SECRETS),
        "ML_SANDBOX_HOST": "127.0.0.1",
        "ML_SANDBOX_PORT": str(port),
    }
    return Proc(
        "wechat-sandbox",
        [sys.executable, "-m", "wechat_sandbox"],
        str(root / "wechat-sandbox.log"),
        sandbox_env,
    )


def plan_secantus(root: Path, port: int) -> Proc:
    data = root / "secantus-data"
    return Proc("secantus", secantus_command(port, str(data)), str(root / "secantus.log"))


def service_names() -> list[tuple[str, int]]:
    return [(name, i) for name in SERVICES for i in range(1, REPLICAS + 1)]


async def wait_http(url: str, proc: Proc, within: float = 60) -> None:
    """Until GET `url` answers 200; ClusterError if `proc` exits first."""
    deadline = time.monotonic() + within
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as http:
        while True:
            if not proc.alive():
                raise ClusterError(f"{proc.name} exited: {proc.tail()}")
            with contextlib.suppress(aiohttp.ClientError, OSError, TimeoutError):
                async with http.get(url) as r:
                    if r.status == 200:
                        return
            if time.monotonic() > deadline:
                raise ClusterError(f"{proc.name} not ready at {url}: {proc.tail()}")
            await asyncio.sleep(0.1)  # polling a process that is still starting


async def seed(mongo_url: str, namespace: str, public_url: str) -> None:
    """The demo connection and app (client `demo`), as `make run` has them."""
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_url)
    try:
        await seed_demo(Registry(mongo[namespace]), public_url, time.time())
    finally:
        await mongo.close()


async def open_sandbox(sandbox_url: str) -> None:
    """Lift the sandbox's per-user wx.login limit: fault runs log the same phones in often."""
    async with (
        aiohttp.ClientSession() as http,
        http.patch(
            f"{sandbox_url}/__sandbox/config", json={"jscode_user_minute_limit": 10**9}
        ) as r,
    ):
        r.raise_for_status()
