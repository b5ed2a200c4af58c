"""A MongoDB server that stops answering costs a request a quick 503 temporarily_unavailable
with Retry-After (in the OAuth error shape on /oauth/), never a 500 or a hang, and answers
come back as soon as it resumes. The wire server is the test's own, paused with SIGSTOP."""

from __future__ import annotations

import signal
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from minilogin_testkit import free_port, pause, server_process
from pymongo import AsyncMongoClient
from redis import exceptions as redis_errors

from bench.topology import secantus_command
from shared.errors import is_store_outage
from shared.mongo import open_mongo
from shared.web import middlewares

TIMEOUT = 0.5  # ML_MONGO_TIMEOUT for this test
MONGO = web.AppKey("mongo", AsyncMongoClient)
Client = TestClient[web.Request, web.Application]


async def count_users(request: web.Request) -> web.Response:
    return web.json_response({"users": await request.app[MONGO].db.users.count_documents({})})


@pytest.fixture
async def paused_mongo(tmp_path: Path) -> AsyncIterator[tuple[Any, Client]]:
    """(the wire server's process, a client of an app whose routes read from it)."""
    port = free_port()
    with server_process(secantus_command(port, str(tmp_path / "data")), port, "SecantusDB") as p:
        mongo = open_mongo(f"mongodb://127.0.0.1:{port}/", timeout=TIMEOUT)
        app = web.Application(middlewares=middlewares("test-service"))
        app[MONGO] = mongo
        app.router.add_get("/users", count_users)
        app.router.add_post("/oauth/token", count_users)
        try:
            async with TestClient(TestServer(app, host="127.0.0.1")) as client:
                yield p, client
        finally:
            p.send_signal(signal.SIGCONT)  # stopped, it would not hear SIGTERM
            await mongo.close()


async def test_a_paused_mongodb_gets_a_quick_503_and_answers_again_when_it_resumes(
    paused_mongo: tuple[Any, Client],
) -> None:
    server, client = paused_mongo
    async with client.get("/users") as resp:
        assert resp.status == 200
        assert await resp.json() == {"users": 0}

    pause(server)
    started = time.monotonic()
    async with client.get("/users") as resp:
        assert resp.status == 503
        assert resp.headers["Retry-After"] == "1"
        assert (await resp.json())["error"]["code"] == "temporarily_unavailable"
    # The whole operation, PyMongo's retry included, within ML_MONGO_TIMEOUT.
    assert time.monotonic() - started < TIMEOUT + 1.0
    async with client.post("/oauth/token") as resp:
        assert resp.status == 503
        assert resp.headers["Retry-After"] == "1"
        body = await resp.json()
        assert body["error"] == "temporarily_unavailable"  # RFC 6749's shape and code
        assert body["error_description"]

    server.send_signal(signal.SIGCONT)
    async with client.get("/users") as resp:
        assert resp.status == 200


@pytest.mark.parametrize(
    ("exc", "outage"),
    [
        (redis_errors.ConnectionError("Connection refused"), True),
        (redis_errors.TimeoutError("Timeout reading from socket"), True),
        # A Redis Cluster or Sentinel failover under way: each passes within seconds.
        (redis_errors.ClusterDownError("CLUSTERDOWN The cluster is down"), True),
        (redis_errors.SlotNotCoveredError('Slot "866" is not covered by the cluster.'), True),
        (redis_errors.ReadOnlyError("You can't write against a read only replica."), True),
        (redis_errors.MovedError("866 127.0.0.1:7001"), True),
        (redis_errors.TryAgainError("TRYAGAIN"), True),
        # Misconfiguration or our own bug: no retry mends it.
        (redis_errors.AuthenticationError("invalid password"), False),
        (redis_errors.ResponseError("WRONGTYPE"), False),
        (ValueError("a bug"), False),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, Exception) else str(v),
)
def test_failover_errors_are_outages_and_misconfigurations_are_not(
    exc: Exception, outage: bool
) -> None:
    assert is_store_outage(exc) is outage
