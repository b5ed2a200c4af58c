"""A whole login through the cluster's one public origin (nginx, two replicas of each
service) over three RabbitMQ nodes, with the tickets in the Redis Cluster, then with them
behind Sentinels: the browser is told `succeeded` and the site's ID token verifies."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import aiohttp
import pytest

from bench.http1 import HttpClient
from bench.loadgen import Client, PushWatcher, one_login
from bench.topology import SANDBOX_APPID, SERVICES
from cluster import Cluster
from shared.keys import Keys
from shared.redis import close_redis, open_redis

pytestmark = [pytest.mark.real, pytest.mark.timeout(300)]


async def phone_user(cluster: Cluster) -> str:
    """A WeChat user in the sandbox, as a phone that will scan."""
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{cluster.sandbox_url}/__sandbox/users", json={"nickname": "cluster"}) as r,
    ):
        assert r.status == 201, await r.text()
        openid: str = (await r.json())["openid"]
        return openid


@contextlib.asynccontextmanager
async def public_client(cluster: Cluster) -> AsyncIterator[Client]:
    """The bench's browser, phone and site backend, every call through nginx."""
    spec = {
        "base": dict.fromkeys(SERVICES, cluster.public_url),
        "sandbox": cluster.sandbox_url,
        "public": cluster.public_url,
        "openids": [await phone_user(cluster)],
        "appid": SANDBOX_APPID,
    }
    client = Client(spec, HttpClient())
    try:
        await client.load_jwks()
        yield client
    finally:
        await client.http.close()


async def readiness(cluster: Cluster, replica: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http, http.get(cluster.readyz_url(replica)) as r:
        return r.status, str((await r.json())["status"])


async def stored_keys(url: str, namespace: str) -> int:
    """How many keys of `namespace` the Redis at `url` holds (every node of a cluster)."""
    redis = open_redis(url)
    try:
        return len([k async for k in redis.scan_iter(match=Keys(namespace).all())])
    finally:
        await close_redis(redis)


@pytest.mark.parametrize("store", ["cluster", "sentinel"])
async def test_a_login_through_nginx_succeeds_on_each_redis_topology(
    cluster: Cluster, store: str
) -> None:
    await cluster.use_store("cluster" if store == "cluster" else "sentinel")
    before = await stored_keys(cluster.redis_url, cluster.namespace)
    async with public_client(cluster) as client:
        # Raises on any step that fails: ticket, QR, socket, scan, confirm, `succeeded`
        # pushed, the code swapped for tokens and the ID token's signature and nonce checked.
        result = await one_login(client, "push")
    assert result.succeeded < 5
    # The login's ticket, code and session live in the topology under test, not elsewhere.
    assert await stored_keys(cluster.redis_url, cluster.namespace) > before


async def test_logins_go_on_while_one_replica_of_each_service_is_killed(cluster: Cluster) -> None:
    await cluster.use_store("sentinel")
    async with public_client(cluster) as client:
        for service in SERVICES:
            await cluster.kill(f"{service}-1")
        try:
            for _ in range(2):  # nginx marks the dead replica failed and retries on the other
                await one_login(client, "push")
        finally:
            for service in SERVICES:
                await cluster.restart(f"{service}-1")
        await one_login(client, "push")


async def test_a_login_confirmed_while_the_whole_broker_is_down_completes_when_it_returns(
    cluster: Cluster,
) -> None:
    await cluster.use_store("sentinel")
    async with public_client(cluster) as client:
        await cluster.stop_broker()
        try:
            # With no broker at all: the QR is given, scanned and confirmed, and each step
            # waits in the ticket's outbox instead of failing the person.
            ticket, cookie, verifier, nonce, image_url = await client.create_ticket()
            await client.qr_image(image_url, cookie)
            watcher = PushWatcher(client, ticket, cookie)
            await watcher.start()
            await watcher.wait("pending")
            session, _ = await client.phone_scan(ticket)
            await client.phone_confirm(ticket, session)
            # Every replica still serves, so none is taken out of rotation: ready, degraded.
            for service in SERVICES:
                assert await readiness(cluster, f"{service}-1") == (200, "degraded")
        finally:
            await cluster.start_broker()
        try:
            # The browser, still waiting, is told once the broker is back.
            done = await watcher.wait("succeeded")
        finally:
            await watcher.close()
        await client.token(done["redirect_url"], verifier, nonce)
