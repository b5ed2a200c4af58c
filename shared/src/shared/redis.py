"""Opening Redis: one server, a Sentinel-watched primary, a Cluster, or fakeredis.

URL forms:
- `redis://host:6379/0` (or `rediss://`): one server.
- `redis+sentinel://s1:26379,s2:26379/<primary-name>/0`: the primary the Sentinels name,
  followed across failovers.
- `redis+cluster://node1:6379,node2:6379`: a Redis Cluster. Every multi-step write MiniLogin
  makes touches one key (a Lua script), so hash slots never get in the way.
- `memory://name`: fakeredis shared by every caller in this process using `name` (the
  embedded default and fast tests).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import hiredis
import redis.asyncio as aioredis
from redis.asyncio.client import Pipeline
from redis.asyncio.cluster import ClusterNode, RedisCluster
from redis.asyncio.sentinel import Sentinel, SentinelConnectionPool
from redis.exceptions import DataError

_FAKE_SERVERS: dict[str, Any] = {}


def _hosts(netloc: str, default_port: int) -> list[tuple[str, int]]:
    out = []
    for part in netloc.rsplit("@", 1)[-1].split(","):
        host, _, port = part.rpartition(":") if ":" in part else (part, "", "")
        out.append((host or part, int(port) if port else default_port))
    return out


# Seconds to connect or to wait for an answer (ServiceSettings.redis_timeout).
DEFAULT_TIMEOUT = 2.0


class _Sentinels(Sentinel):
    """Sentinels whose primary is used again as soon as it answers.

    redis-py skips a primary the Sentinels flag as down. A paused or overloaded primary is
    flagged after `down-after-milliseconds` and cleared only by a Sentinel's next ping, up to
    a second after it answers again: every new connection meanwhile was refused though the
    primary was serving (a login then waited a Retry-After more). While no failover is under
    way there is no other primary to go to, so the flagged one is dialled: if it is really
    down the connection fails just as fast. During a failover nothing is dialled."""

    def check_master_state(self, state: dict[str, Any], service_name: str) -> bool:
        flags = set(str(state.get("flags", "")).split(","))
        if not state["is_master"] or "failover_in_progress" in flags:
            return False
        return bool(state["num-other-sentinels"] >= self.min_other_sentinels)


def open_redis(url: str, *, timeout: float = DEFAULT_TIMEOUT) -> aioredis.Redis:
    """A client for `url` whose connects and commands give up after `timeout` seconds with
    redis-py's ConnectionError or TimeoutError (a 503 for the request)."""
    if url.startswith("memory://"):
        try:
            import fakeredis  # only the embedded default needs it
        except ImportError as exc:  # a production image: no development packages in it
            raise RuntimeError(
                "memory:// Redis is the embedded default; install shared[embedded] for it, "
                "or point ML_REDIS_URL at a Redis server"
            ) from exc

        name = url.removeprefix("memory://") or "default"
        server = _FAKE_SERVERS.setdefault(name, fakeredis.FakeServer())
        fake: aioredis.Redis = fakeredis.FakeAsyncRedis(server=server, decode_responses=True)
        return fake
    parts = urlsplit(url)
    password = parts.password
    if parts.scheme == "redis+sentinel":
        path = [p for p in parts.path.split("/") if p]
        if not path:
            raise ValueError("redis+sentinel:// URLs name the primary: .../<primary-name>/<db>")
        db = int(path[1]) if len(path) > 1 else 0
        # redis-py leaves Sentinel's constructor untyped.
        sentinel = _Sentinels(  # type: ignore[no-untyped-call]
            _hosts(parts.netloc, 26379),
            socket_timeout=2,
            sentinel_kwargs={"password": password} if password else None,
        )
        primary: aioredis.Redis = sentinel.master_for(
            path[0],
            db=db,
            password=password,
            decode_responses=True,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
        )
        return primary
    if parts.scheme == "redis+cluster":
        nodes = [ClusterNode(h, p) for h, p in _hosts(parts.netloc, 6379)]
        # RedisCluster offers the same commands; callers use it through the Redis interface.
        return RedisCluster(  # type: ignore[return-value]
            startup_nodes=nodes,
            password=password,
            decode_responses=True,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
        )
    # A plain pool: the blocking one's condition and timeout cost a fifth of a command's
    # CPU. A process never holds more connections than requests and deliveries in flight
    # (ML_MAX_IN_FLIGHT 256 plus a prefetch of 64; the notifier caps its own reads), so the
    # bound is a guard, not a queue.
    pool = aioredis.ConnectionPool.from_url(
        url,
        max_connections=512,
        decode_responses=True,
        health_check_interval=30,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        connection_class=HiredisPackingConnection,
    )
    return aioredis.Redis.from_pool(pool)


async def close_redis(client: aioredis.Redis) -> None:
    """Close a client from `open_redis`, with the Sentinel clients behind a primary (redis-py
    leaves those open when the primary's client closes)."""
    await client.aclose()
    # A RedisCluster has a pool per node and no connection_pool attribute.
    pool = getattr(client, "connection_pool", None)
    if isinstance(pool, SentinelConnectionPool):
        await pool.sentinel_manager.aclose()


class HiredisPackingConnection(aioredis.Connection):
    """redis-py packs commands in Python, a sixth of a command's CPU here; hiredis, which
    already parses the replies, packs them in C."""

    def pack_command(self, *args: Any) -> list[bytes]:
        if isinstance(args[0], str) and " " in args[0]:  # "CONFIG GET", "SCRIPT LOAD"
            args = (*args[0].split(), *args[1:])
        try:
            return [hiredis.pack_command(args)]
        except TypeError as exc:
            raise DataError(str(exc)) from exc


async def send_writes(redis: aioredis.Redis, writes: Callable[[Pipeline], object]) -> None:
    """Send the commands `writes` queues on a pipeline (one round trip per server) and wait
    until every one is acknowledged; the first refused raises."""
    async with redis.pipeline(transaction=False) as pipe:
        writes(pipe)
        await pipe.execute()
