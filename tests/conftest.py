"""Fixtures every suite shares: the real MongoDB wire server, namespaces, whole stacks, a GeoIP
database."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import browserkit
import pytest
from geoip_testkit import write_city_db
from minilogin_testkit import Stack, free_port, server_process, start_stack
from playwright.async_api import Browser
from pymongo import AsyncMongoClient

from bench.topology import secantus_command
from shared.clock import FakeClock, SystemClock


@pytest.fixture(scope="session")
def mongo_url() -> Iterator[str]:
    """A real MongoDB wire-protocol server in its own process: `MONGO_URL` if given
    (a real mongod), else SecantusDB started here."""
    if url := os.environ.get("MONGO_URL"):
        yield url
        return
    port = free_port()
    with server_process(secantus_command(port, ":memory:"), port, "SecantusDB"):
        yield f"mongodb://127.0.0.1:{port}/"


@pytest.fixture
def namespace() -> str:
    return f"mltest{uuid.uuid4().hex[:12]}"


@pytest.fixture
async def db(mongo_url: str, namespace: str) -> AsyncIterator[Any]:
    """A database of its own on the test server, dropped afterwards."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_url)
    try:
        yield client[namespace]
    finally:
        await client.drop_database(namespace)
        await client.close()


@pytest.fixture(params=["embedded", pytest.param("real", marks=pytest.mark.real)])
def stack_kind(request: pytest.FixtureRequest) -> str:
    kind: str = request.param
    return kind


@pytest.fixture
async def stack(stack_kind: str, mongo_url: str, namespace: str) -> AsyncIterator[Stack]:
    """The whole system with a real clock, embedded or over the real broker and stores."""
    async with start_stack(stack_kind, mongo_url, namespace, SystemClock()) as s:
        yield s


@pytest.fixture
async def fake_clock_stack(stack_kind: str, mongo_url: str, namespace: str) -> AsyncIterator[Stack]:
    """The same, with time the test moves by hand (expiry without sleeping)."""
    async with start_stack(stack_kind, mongo_url, namespace, FakeClock()) as s:
        yield s


@pytest.fixture
async def real_stack(mongo_url: str, namespace: str) -> AsyncIterator[Stack]:
    """Only the real topology: separate service apps, two notifier replicas."""
    async with start_stack("real", mongo_url, namespace, SystemClock()) as s:
        yield s


@pytest.fixture(scope="session")
def geoip_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tests' own small GeoIP City database (tests/geoip_testkit.py)."""
    return write_city_db(tmp_path_factory.mktemp("geoip") / "test-city.mmdb")


@pytest.fixture
async def geo_stack(
    stack_kind: str, mongo_url: str, namespace: str, geoip_db: Path
) -> AsyncIterator[Stack]:
    """The whole system with that GeoIP database, behind one trusted proxy (X-Forwarded-For
    says where the PC and the phone are)."""
    async with start_stack(
        stack_kind,
        mongo_url,
        namespace,
        SystemClock(),
        geoip_db=str(geoip_db),
        trusted_proxy_hops=1,
    ) as s:
        yield s


@pytest.fixture
async def chromium() -> AsyncIterator[Browser]:
    """Debian's chromium, one per test (browserkit says how it is started)."""
    async with browserkit.chromium() as browser:
        yield browser
