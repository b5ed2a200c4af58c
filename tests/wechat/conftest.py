"""Fixtures: the WeChat sandbox served in-process, Redis (fake and real), the client."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import fakeredis
import pytest
import redis.asyncio as aioredis
from aiohttp.test_utils import TestServer
from wechat_testkit import REAL_REDIS_URL, Sandbox

from shared.clock import FakeClock
from shared.keys import Keys
from shared.wechat import WeChatClient
from wechat_sandbox import create_app


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def sandbox(clock: FakeClock) -> AsyncIterator[Sandbox]:
    app = create_app(clock=clock)
    server = TestServer(app)
    await server.start_server()
    try:
        async with aiohttp.ClientSession() as http:
            yield Sandbox(server, http, app)
    finally:
        await server.close()


@pytest.fixture(params=["fakeredis", pytest.param("redis", marks=pytest.mark.real)])
async def redis(request: pytest.FixtureRequest) -> AsyncIterator[aioredis.Redis]:
    if request.param == "fakeredis":
        fake = fakeredis.FakeAsyncRedis(decode_responses=True)
        yield fake
        await fake.aclose()
        return
    real = aioredis.Redis.from_url(REAL_REDIS_URL, decode_responses=True)
    yield real
    await real.aclose()


@pytest.fixture
async def keys(redis: aioredis.Redis) -> AsyncIterator[Keys]:
    keys = Keys(f"test:wechat:{uuid.uuid4().hex}")
    yield keys
    found = [key async for key in redis.scan_iter(match=keys.all())]
    if found:
        await redis.delete(*found)


@pytest.fixture
def make_client(
    sandbox: Sandbox, redis: aioredis.Redis, keys: Keys, clock: FakeClock
) -> Callable[..., WeChatClient]:
    """A factory: each client is one "replica" sharing the same Redis and key prefix."""

    def make(**options: Any) -> WeChatClient:
        options = {"retry_base_delay": 0.001, "timeout": 2.0, **options}
        return WeChatClient(sandbox.http, redis, sandbox.base_url, keys, clock, **options)

    return make


@pytest.fixture
def wechat(make_client: Callable[..., WeChatClient]) -> WeChatClient:
    return make_client()
