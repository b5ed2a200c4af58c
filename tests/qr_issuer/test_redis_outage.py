"""While Redis is paused or down, the login page's ticket request is refused at once with
503 temporarily_unavailable and Retry-After (never 500, never a hang), and the first
request after Redis returns gets its ticket. The Redis server is the test's own."""

from __future__ import annotations

import shutil
import signal
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from minilogin_testkit import free_port, pause, server_process
from pymongo import AsyncMongoClient

import qr_issuer.app
from devstack.seed import DEMO_CLIENT_ID, seed_demo
from devstack.settings import StackSettings
from qr_issuer.settings import QrIssuerSettings
from shared.registry import Registry

PUBLIC = "https://login.example.test"
Client = TestClient[web.Request, web.Application]


class OwnRedis:
    """A redis-server of this test's own, to pause, kill and start again on its port."""

    def __init__(self, tmp_path: Path) -> None:
        server = shutil.which("redis-server")
        if server is None:
            pytest.fail("redis-server is needed for the outage tests")
        self.port = free_port()
        self.argv = [server, "--port", str(self.port), "--bind", "127.0.0.1",
                     "--save", "", "--appendonly", "no", "--dir", str(tmp_path)]  # fmt: skip
        self.proc: subprocess.Popen[bytes] | None = None

    @contextmanager
    def running(self) -> Iterator[None]:
        with server_process(self.argv, self.port, "redis-server") as self.proc:
            try:
                yield
            finally:
                self.proc.send_signal(signal.SIGCONT)  # stopped, it would not hear SIGTERM

    def pause(self) -> None:
        assert self.proc is not None
        pause(self.proc)

    def resume(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGCONT)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()


@pytest.fixture
async def qr_issuer_over(
    mongo_url: str, namespace: str, tmp_path: Path
) -> AsyncIterator[tuple[OwnRedis, Client]]:
    """The qr-issuer over the test's own Redis, the in-memory bus and the wire server."""
    redis = OwnRedis(tmp_path)
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_url)
    await seed_demo(Registry(mongo[namespace]), PUBLIC, time.time())
    settings = StackSettings.of(
        redis_url=f"redis://127.0.0.1:{redis.port}/0",
        amqp_url=f"memory://{namespace}",
        mongo_url=mongo_url,
        mongo_db=namespace,
        namespace=namespace,
        public_url=PUBLIC,
        log_level="WARNING",
    ).qr_issuer
    try:
        with redis.running():
            app = qr_issuer.app.create_app(settings)
            async with TestClient(TestServer(app, host="127.0.0.1")) as client:
                yield redis, client
    finally:
        await mongo.drop_database(namespace)
        await mongo.close()


async def create_ticket(client: Client) -> tuple[int, dict[str, Any], float, str | None]:
    """POST a ticket as the login page does: (status, body, seconds taken, Retry-After)."""
    body = {
        "client_id": DEMO_CLIENT_ID,
        "redirect_uri": f"{PUBLIC}/demo/callback",
        "code_challenge": "A" * 43,
    }
    started = time.monotonic()
    async with client.post("/api/v1/tickets", json=body) as resp:
        answer = await resp.json()
        return resp.status, answer, time.monotonic() - started, resp.headers.get("Retry-After")


def assert_temporarily_unavailable(
    status: int, body: dict[str, Any], retry_after: str | None
) -> None:
    assert status == 503, body
    assert body["error"]["code"] == "temporarily_unavailable"
    assert body["error"]["request_id"]
    assert retry_after is not None
    assert int(retry_after) >= 1


@pytest.mark.real  # a redis-server of its own
async def test_a_paused_redis_gets_a_quick_503_and_a_ticket_as_soon_as_it_resumes(
    qr_issuer_over: tuple[OwnRedis, Client],
) -> None:
    redis, client = qr_issuer_over
    status, body, _, _ = await create_ticket(client)
    assert status == 201, body

    redis.pause()
    status, body, took, retry_after = await create_ticket(client)
    assert_temporarily_unavailable(status, body, retry_after)
    # ML_REDIS_TIMEOUT (2 s by default), not redis-py's 5 s, and no hang.
    assert took < QrIssuerSettings.model_fields["redis_timeout"].default + 1.0

    redis.resume()
    status, body, took, _ = await create_ticket(client)
    assert status == 201, body
    assert took < 1.0


@pytest.mark.real  # a redis-server of its own
async def test_a_redis_that_went_away_gets_503_and_a_ticket_once_it_is_back(
    qr_issuer_over: tuple[OwnRedis, Client],
) -> None:
    redis, client = qr_issuer_over
    status, body, _, _ = await create_ticket(client)
    assert status == 201, body

    redis.kill()
    status, body, took, retry_after = await create_ticket(client)
    assert_temporarily_unavailable(status, body, retry_after)
    assert took < 1.0  # refused at once: nothing to wait for

    with redis.running():  # started again on the same port, empty
        status, body, took, _ = await create_ticket(client)
        assert status == 201, body
        assert took < 1.0
