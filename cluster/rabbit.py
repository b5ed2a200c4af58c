"""Three RabbitMQ nodes from Debian's package, clustered, beside the machine's own broker.

Each node has its own name (ml1-<amqp port>@localhost ...), AMQP and distribution ports,
data and log folders, a config file and an empty plugins file; they share an Erlang cookie
through a HOME of their own. The epmd already running is shared (it only maps names to ports)."""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cluster.procs import ClusterError, Proc, run

SERVER = "/usr/lib/rabbitmq/bin/rabbitmq-server"
CTL = "/usr/lib/rabbitmq/bin/rabbitmqctl"
NODES = 3
# Two schedulers each and no busy-waiting: three nodes share the machine's two cores with
# everything else instead of spinning on them.
ERL_ARGS = (
    "+S 2:2 +sbwt none +sbwtdcpu none +sbwtdio none -kernel inet_dist_use_interface {127,0,0,1}"
)


@dataclass
class RabbitNode:
    name: str  # ml1-<amqp port>@localhost
    amqp_port: int
    dist_port: int
    proc: Proc


def node_config(amqp_port: int) -> str:
    """The node's rabbitmq.conf: AMQP on loopback only, logs to its file (warnings up)."""
    return (
        f"listeners.tcp.default = 127.0.0.1:{amqp_port}\n"
        "log.console = false\n"
        "log.file.level = warning\n"
    )


def node_name(i: int, amqp_port: int) -> str:
    return f"ml{i}-{amqp_port}@localhost"


def plan_nodes(root: Path, ports: list[tuple[int, int]], cookie_home: Path) -> list[RabbitNode]:
    nodes = []
    for i, (amqp_port, dist_port) in enumerate(ports, start=1):
        # The AMQP port in the name: two clusters on one machine (a chaos run beside the
        # cluster tests) register different names with epmd instead of refusing to boot.
        name = node_name(i, amqp_port)
        base = root / f"ml{i}"
        for sub in ("mnesia", "log"):
            (base / sub).mkdir(parents=True, exist_ok=True)
        (base / "rabbitmq.conf").write_text(node_config(amqp_port))
        (base / "enabled_plugins").write_text("[].\n")
        env = {
            "HOME": str(cookie_home),
            "RABBITMQ_NODENAME": name,
            "RABBITMQ_NODE_PORT": str(amqp_port),
            "RABBITMQ_DIST_PORT": str(dist_port),
            "RABBITMQ_MNESIA_BASE": str(base / "mnesia"),
            "RABBITMQ_LOG_BASE": str(base / "log"),
            "RABBITMQ_CONFIG_FILE": str(base / "rabbitmq.conf"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(base / "enabled_plugins"),
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": ERL_ARGS,
            "ERL_CRASH_DUMP": str(base / "erl_crash.dump"),
            # The script then execs the VM: the pid we hold is the node's, and SIGTERM stops
            # it cleanly (instead of a shell that forwards signals to a child).
            "RUNNING_UNDER_SYSTEMD": "true",
        }
        proc = Proc(f"rabbit-{i}", [SERVER], str(base / "server.log"), env)
        nodes.append(RabbitNode(name, amqp_port, dist_port, proc))
    return nodes


def write_cookie(home: Path) -> None:
    home.mkdir(parents=True, exist_ok=True)
    cookie = home / ".erlang.cookie"
    if not cookie.exists():
        cookie.write_text(secrets.token_hex(20))
        cookie.chmod(0o400)  # Erlang refuses a cookie others can read


class Rabbitmqctl:
    """rabbitmqctl against one of our nodes, with our cookie."""

    def __init__(self, cookie_home: Path) -> None:
        self._env = {"HOME": str(cookie_home)}

    async def __call__(self, node: str, *args: str, within: float = 60) -> str:
        return await run([CTL, "-q", "-n", node, *args], self._env, within)

    async def running_nodes(self, node: str) -> list[str]:
        out = await self(node, "cluster_status", "--formatter", "json", within=30)
        nodes: list[str] = json.loads(out)["running_nodes"]
        return sorted(nodes)

    async def join(self, node: str, seed: str) -> None:
        await self(node, "stop_app")
        await self(node, "join_cluster", seed)
        await self(node, "start_app")

    async def queues(self, node: str, vhost: str = "/") -> list[dict[str, Any]]:
        """Every queue with its type, leader and members (quorum queues)."""
        out = await self(
            node,
            "list_queues",
            "-p",
            vhost,
            "name",
            "type",
            "leader",
            "members",
            "online",
            "--formatter",
            "json",
        )
        rows: list[dict[str, Any]] = json.loads(out)
        return rows

    async def wait_running(self, node: str, want: list[str], within: float = 90) -> None:
        """Until `node` sees exactly the nodes `want` running."""
        deadline = time.monotonic() + within
        seen: list[str] | str = []
        while True:
            try:
                seen = await self.running_nodes(node)
                if seen == sorted(want):
                    return
            except ClusterError as exc:
                seen = str(exc)[-300:]
            if time.monotonic() > deadline:
                raise ClusterError(f"{node} runs {seen}, not {sorted(want)}")
            await asyncio.sleep(0.5)  # each rabbitmqctl call is a second of CPU: poll slowly
