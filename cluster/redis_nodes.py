"""Redis from Debian's package in the two highly available shapes MiniLogin supports: a
Redis Cluster of three masters with a replica each, and a primary with two replicas watched
by three Sentinels. Persistence is off: these hold tickets and limits that live minutes."""

from __future__ import annotations

import asyncio
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from cluster.procs import ClusterError, Proc, run

MASTERS = 3
SENTINELS = 3
PRIMARY_NAME = "mlprimary"
# How long a silent node is taken for dead. Short, so a fault test sees the failover within
# seconds; long enough that two busy shared cores do not cause failovers of their own.
NODE_TIMEOUT_MS = 2000


async def _command(client: aioredis.Redis, *args: str) -> Any:
    """A command whose reply redis-py parses for us (CLUSTER NODES, SENTINEL MASTER)."""
    return await client.execute_command(*args)  # type: ignore[no-untyped-call]  # untyped in redis-py


def redis_server() -> str:
    path = shutil.which("redis-server")
    if path is None:
        raise ClusterError("redis-server is not installed (Debian's redis-server package)")
    return path


def _common(port: int, folder: Path) -> str:
    return (
        f"port {port}\nbind 127.0.0.1\ndir {folder}\n"
        'save ""\nappendonly no\nprotected-mode yes\nloglevel warning\n'
    )


@dataclass
class RedisNode:
    name: str
    port: int
    proc: Proc


def _node(root: Path, name: str, port: int, config: str, *extra: str) -> RedisNode:
    folder = root / name
    folder.mkdir(parents=True, exist_ok=True)
    conf = folder / "redis.conf"
    conf.write_text(_common(port, folder) + config)
    proc = Proc(name, [redis_server(), str(conf), *extra], str(folder / "server.log"))
    return RedisNode(name, port, proc)


def plan_cluster(root: Path, ports: list[tuple[int, int]]) -> list[RedisNode]:
    """Six cluster-enabled servers: `ports` are (client port, cluster bus port) pairs. The bus
    port is chosen too, since the default (port + 10000) may fall in the ephemeral range."""
    return [
        _node(
            root,
            f"redis-cluster-{i}",
            port,
            f"cluster-enabled yes\ncluster-port {bus}\ncluster-config-file nodes.conf\n"
            f"cluster-node-timeout {NODE_TIMEOUT_MS}\n",
        )
        for i, (port, bus) in enumerate(ports, start=1)
    ]


async def create_cluster(nodes: list[RedisNode]) -> None:
    """`redis-cli --cluster create`: slots over the first three, a replica for each."""
    cli = shutil.which("redis-cli") or "redis-cli"
    addresses = [f"127.0.0.1:{n.port}" for n in nodes]
    await run([cli, "--cluster", "create", *addresses, "--cluster-replicas", "1", "--cluster-yes"])
    await wait_cluster_ok(nodes)


async def cluster_info(port: int) -> dict[str, str]:
    client = aioredis.Redis(port=port, socket_timeout=1, decode_responses=True)
    try:
        info: dict[str, str] = await _command(client, "CLUSTER INFO")  # parsed by redis-py
    finally:
        await client.aclose()
    return info


async def wait_cluster_ok(nodes: list[RedisNode], within: float = 30) -> None:
    """Until every live node says cluster_state:ok."""
    deadline = time.monotonic() + within
    while True:
        states = {}
        for node in nodes:
            if node.proc.alive():
                try:
                    states[node.name] = (await cluster_info(node.port)).get("cluster_state")
                except RedisError as exc:
                    states[node.name] = repr(exc)
        if all(s == "ok" for s in states.values()):
            return
        if time.monotonic() > deadline:
            raise ClusterError(f"Redis Cluster not ok: {states}")
        await asyncio.sleep(0.1)  # polling the cluster's own view of itself


async def cluster_masters(nodes: list[RedisNode]) -> dict[str, list[str]]:
    """Each master's node name -> its replicas' names, as a live node sees it."""
    by_port = {n.port: n.name for n in nodes}
    for node in nodes:
        if not node.proc.alive():
            continue
        client = aioredis.Redis(port=node.port, socket_timeout=1, decode_responses=True)
        try:
            # redis-py parses the reply: "host:port" -> node_id, flags, master_id, slots, ...
            rows: dict[str, dict[str, Any]] = await _command(client, "CLUSTER NODES")
        except RedisError:
            continue
        finally:
            await client.aclose()
        names = {
            row["node_id"]: by_port.get(int(addr.split("@")[0].rsplit(":", 1)[1]), addr)
            for addr, row in rows.items()
        }
        masters: dict[str, list[str]] = {
            names[row["node_id"]]: []
            for row in rows.values()
            if "master" in row["flags"] and "fail" not in row["flags"] and row["slots"]
        }
        for row in rows.values():
            if "slave" in row["flags"] and names.get(row["master_id"]) in masters:
                masters[names[row["master_id"]]].append(names[row["node_id"]])
        return masters
    raise ClusterError("no Redis Cluster node answers")


def plan_sentinel(root: Path, ports: list[int], sentinel_ports: list[int]) -> list[RedisNode]:
    """A primary (the first port), two replicas of it, and three Sentinels (quorum 2)."""
    primary = ports[0]
    nodes = [_node(root, "redis-primary-1", primary, "")]
    nodes += [
        _node(root, f"redis-primary-{i}", port, f"replicaof 127.0.0.1 {primary}\n")
        for i, port in enumerate(ports[1:], start=2)
    ]
    nodes += [
        _node(
            root,
            f"sentinel-{i}",
            port,
            f"sentinel monitor {PRIMARY_NAME} 127.0.0.1 {primary} 2\n"
            f"sentinel down-after-milliseconds {PRIMARY_NAME} {NODE_TIMEOUT_MS}\n"
            f"sentinel failover-timeout {PRIMARY_NAME} 10000\n",
            "--sentinel",
        )
        for i, port in enumerate(sentinel_ports, start=1)
    ]
    return nodes


async def sentinel_primary(sentinel_ports: list[int]) -> int:
    """The port of the primary the Sentinels name now."""
    for port in sentinel_ports:
        client = aioredis.Redis(port=port, socket_timeout=1, decode_responses=True)
        try:
            addr = await _command(client, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", PRIMARY_NAME)
        except RedisError:
            continue
        finally:
            await client.aclose()
        if addr:
            return int(addr[1])
    raise ClusterError("no Sentinel answers")


async def wait_sentinels_ready(
    sentinel_ports: list[int], replicas: int, within: float = 30
) -> None:
    """Until every Sentinel knows the primary, its replicas and the other Sentinels."""
    deadline = time.monotonic() + within
    while True:
        seen = []
        for port in sentinel_ports:
            client = aioredis.Redis(port=port, socket_timeout=1, decode_responses=True)
            try:
                info = await _command(client, "SENTINEL", "MASTER", PRIMARY_NAME)
                fields = (
                    dict(zip(info[::2], info[1::2], strict=True))
                    if isinstance(info, list)
                    else info
                )
                seen.append(
                    (int(fields["num-slaves"]), int(fields["num-other-sentinels"]), fields["flags"])
                )
            except (RedisError, KeyError):
                seen.append((-1, -1, "?"))
            finally:
                await client.aclose()
        if all(
            r >= replicas and s >= len(sentinel_ports) - 1 and f == "master" for r, s, f in seen
        ):
            return
        if time.monotonic() > deadline:
            raise ClusterError(f"Sentinels not ready (replicas, other sentinels, flags): {seen}")
        await asyncio.sleep(0.2)  # Sentinels find each other through hello messages (2 s)


async def wait_replicas(port: int, count: int, within: float = 30) -> None:
    """Until the primary on `port` has `count` replicas connected."""
    deadline = time.monotonic() + within
    client = aioredis.Redis(port=port, socket_timeout=1, decode_responses=True)
    try:
        while (await client.info("replication")).get("connected_slaves", 0) < count:
            if time.monotonic() > deadline:
                raise ClusterError(f"the primary on {port} has fewer than {count} replicas")
            await asyncio.sleep(0.1)  # replicas connect and sync within a second
    finally:
        await client.aclose()


async def is_primary(port: int) -> bool:
    """Whether the server on `port` says it is a primary (a promoted replica does)."""
    client = aioredis.Redis(port=port, socket_timeout=1, decode_responses=True)
    try:
        return (await client.info("replication")).get("role") == "master"
    finally:
        await client.aclose()
