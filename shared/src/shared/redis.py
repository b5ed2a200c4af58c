"""Opening Redis: a real server, or fakeredis for the embedded default."""

from __future__ import annotations

from typing import Any

import redis.asyncio as aioredis

_FAKE_SERVERS: dict[str, Any] = {}


def open_redis(url: str) -> aioredis.Redis:
    """`memory://name` gives a fakeredis shared by every caller in this process using `name`."""
    if url.startswith("memory://"):
        import fakeredis  # only the embedded default needs it

        name = url.removeprefix("memory://") or "default"
        server = _FAKE_SERVERS.setdefault(name, fakeredis.FakeServer())
        fake: aioredis.Redis = fakeredis.FakeAsyncRedis(server=server, decode_responses=True)
        return fake
    return aioredis.Redis.from_url(url, decode_responses=True, health_check_interval=30)
