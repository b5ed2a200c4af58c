"""The whole cluster on one machine, and the faults a chaos run puts it through.

`Cluster.plan(root)` picks free ports and writes every config under `root`; `start()` brings
up, at once where they do not depend on each other: three clustered RabbitMQ nodes, a Redis
Cluster (3 masters, 3 replicas), a Sentinel setup (primary, 2 replicas, 3 Sentinels),
SecantusDB, the WeChat sandbox, nginx, and then two replicas of each service. `root` keeps a
state file, so `Cluster.attach(root)` drives a cluster another process started, and an env
file with the URLs (`cluster.env`)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import time
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from redis.exceptions import RedisError

from bench.topology import SERVICES, free_port, raise_fd_limit
from cluster import rabbit, redis_nodes, services
from cluster.ingress import IngressPorts, plan_nginx
from cluster.procs import ClusterError, Proc, wait_port

Store = Literal["cluster", "sentinel"]
STATE = "state.json"
ENV_FILE = "cluster.env"
# Marks a folder as a cluster's own, so only such a folder is ever emptied.
MARKER = ".minilogin-cluster"
NAMESPACE = "mlcluster"
# Where make cluster-up keeps the cluster's state, data and logs.
DEFAULT_DIR = Path(__file__).resolve().parents[1] / "var" / "cluster"


@dataclass
class Cluster:
    root: Path
    namespace: str
    store: Store  # which Redis the services use
    ports: dict[str, int]
    procs: dict[str, Proc] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)

    # --- planning, state --------------------------------------------------------------

    @classmethod
    def plan(cls, root: Path, *, namespace: str = NAMESPACE, store: Store = "cluster") -> Cluster:
        """Ports for everything (none bound yet) and a fresh folder for data and logs."""
        if (root / STATE).exists():
            raise ClusterError(f"a cluster's state is already in {root}: stop it first")
        if root.exists() and any(root.iterdir()):
            if not (root / MARKER).exists():  # never empty a folder that is not ours
                raise ClusterError(f"{root} holds files of something else")
            shutil.rmtree(root)
        root.mkdir(parents=True, exist_ok=True)
        (root / MARKER).touch()
        names = [f"rabbit-{i}" for i in range(1, rabbit.NODES + 1)]
        names += [f"rabbit-{i}.dist" for i in range(1, rabbit.NODES + 1)]
        names += [f"redis-cluster-{i}" for i in range(1, 2 * redis_nodes.MASTERS + 1)]
        names += [f"redis-cluster-{i}.bus" for i in range(1, 2 * redis_nodes.MASTERS + 1)]
        names += [f"redis-primary-{i}" for i in range(1, 4)]
        names += [f"sentinel-{i}" for i in range(1, redis_nodes.SENTINELS + 1)]
        names += ["secantus", "wechat-sandbox", "http", "health", "amqp"]
        for name, i in services.service_names():
            names += [f"{name}-{i}", f"{name}-{i}.metrics"]
        return cls(root, namespace, store, {name: free_port() for name in names})

    def save(self) -> None:
        state = {
            "namespace": self.namespace,
            "store": self.store,
            "ports": self.ports,
            "procs": {name: p.to_json() for name, p in self.procs.items()},
            "timings": self.timings,
        }
        (self.root / STATE).write_text(json.dumps(state, indent=1))
        (self.root / ENV_FILE).write_text("".join(f"{k}={v}\n" for k, v in self.env().items()))

    @classmethod
    def attach(cls, root: Path) -> Cluster:
        """The cluster whose state is in `root` (started by `make cluster-up`, say)."""
        try:
            state = json.loads((root / STATE).read_text())
        except FileNotFoundError:
            raise ClusterError(f"no cluster in {root}: run make cluster-up") from None
        procs = {name: Proc.from_json(p) for name, p in state["procs"].items()}
        return cls(
            root,
            state["namespace"],
            state["store"],
            state["ports"],
            procs,
            state.get("timings", {}),
        )

    # --- addresses --------------------------------------------------------------------

    @property
    def public_url(self) -> str:
        """The one public origin: nginx in front of every service replica."""
        return f"http://127.0.0.1:{self.ports['http']}"

    @property
    def amqp_url(self) -> str:
        """The broker as the services reach it: nginx passing each connection to a live node."""
        return f"amqp://guest:guest@127.0.0.1:{self.ports['amqp']}/"

    def amqp_node_url(self, node: int) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.ports[f'rabbit-{node}']}/"

    @property
    def redis_cluster_url(self) -> str:
        hosts = [f"127.0.0.1:{self.ports[f'redis-cluster-{i}']}" for i in range(1, 4)]
        return "redis+cluster://" + ",".join(hosts)

    @property
    def sentinel_url(self) -> str:
        hosts = [f"127.0.0.1:{self.ports[f'sentinel-{i}']}" for i in range(1, 4)]
        return f"redis+sentinel://{','.join(hosts)}/{redis_nodes.PRIMARY_NAME}/0"

    @property
    def redis_url(self) -> str:
        """The Redis the services use now."""
        return self.redis_cluster_url if self.store == "cluster" else self.sentinel_url

    @property
    def mongo_url(self) -> str:
        return f"mongodb://127.0.0.1:{self.ports['secantus']}/"

    @property
    def sandbox_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['wechat-sandbox']}"

    def readyz_url(self, replica: str) -> str:
        """A service replica's readiness probe, on its own port (never through nginx)."""
        service = replica.rsplit("-", 1)[0]
        return f"http://127.0.0.1:{self.ports[replica]}/internal/{service}/readyz"

    def metrics_url(self, replica: str) -> str:
        """A service replica's Prometheus endpoint (`notifier-2`, say)."""
        service = replica.rsplit("-", 1)[0]
        return f"http://127.0.0.1:{self.ports[replica + '.metrics']}/internal/{service}/metrics"

    def env(self) -> dict[str, str]:
        """What cluster.env holds: the services' settings and every address a test needs."""
        return {
            "ML_CLUSTER_DIR": str(self.root),
            "ML_NAMESPACE": self.namespace,
            "ML_PUBLIC_URL": self.public_url,
            "ML_AMQP_URL": self.amqp_url,
            "ML_AMQP_NODE_URLS": ",".join(self.amqp_node_url(i) for i in self.rabbit_indexes),
            "ML_BUS_QUEUE_TYPE": "quorum",
            "ML_REDIS_URL": self.redis_url,
            "ML_REDIS_CLUSTER_URL": self.redis_cluster_url,
            "ML_REDIS_SENTINEL_URL": self.sentinel_url,
            "ML_MONGO_URL": self.mongo_url,
            "ML_MONGO_DB": self.namespace,
            "ML_WX_API_BASE": self.sandbox_url,
            "ML_NGINX_HEALTH_URL": f"http://127.0.0.1:{self.ports['health']}/nginx-health",
        }

    @property
    def rabbit_indexes(self) -> range:
        return range(1, rabbit.NODES + 1)

    # --- start and stop ---------------------------------------------------------------

    def _add(self, proc: Proc) -> Proc:
        self.procs[proc.name] = proc
        return proc

    def _rabbit_nodes(self) -> list[rabbit.RabbitNode]:
        ports = [
            (self.ports[f"rabbit-{i}"], self.ports[f"rabbit-{i}.dist"]) for i in self.rabbit_indexes
        ]
        return rabbit.plan_nodes(self.root / "rabbitmq", ports, self._cookie_home)

    @property
    def _cookie_home(self) -> Path:
        return self.root / "rabbitmq" / "home"

    @property
    def ctl(self) -> rabbit.Rabbitmqctl:
        return rabbit.Rabbitmqctl(self._cookie_home)

    def rabbit_node(self, i: int) -> str:
        return rabbit.node_name(i, self.ports[f"rabbit-{i}"])

    def _service_env(self) -> dict[str, str]:
        return services.common_env(
            signing_key=self.root / "secrets" / "jwt-private.pem",
            namespace=self.namespace,
            public_url=self.public_url,
            amqp_url=self.amqp_url,
            redis_url=self.redis_url,
            mongo_url=self.mongo_url,
            sandbox_url=self.sandbox_url,
        )

    def _plan_services(self) -> list[Proc]:
        env = self._service_env()
        return [
            self._add(
                services.plan_service(
                    name,
                    i,
                    self.root / "logs",
                    self.ports[f"{name}-{i}"],
                    self.ports[f"{name}-{i}.metrics"],
                    env,
                )
            )
            for name, i in services.service_names()
        ]

    async def start(self, *, with_services: bool = True) -> None:
        """Everything, ready: every RabbitMQ node runs in one cluster, the Redis Cluster is ok,
        the Sentinels know the primary, its replicas and each other, nginx listens, and (with
        `with_services`, else later by start_services) every service replica answers readyz.
        Stops what it started if a part fails, leaving the logs in `root`."""
        raise_fd_limit()
        t0 = time.monotonic()
        (self.root / "logs").mkdir(exist_ok=True)
        rabbit.write_cookie(self._cookie_home)
        services.write_signing_key(self.root / "secrets" / "jwt-private.pem")
        nodes = self._rabbit_nodes()
        cluster_nodes = redis_nodes.plan_cluster(
            self.root / "redis",
            [
                (self.ports[f"redis-cluster-{i}"], self.ports[f"redis-cluster-{i}.bus"])
                for i in range(1, 2 * redis_nodes.MASTERS + 1)
            ],
        )
        sentinel_nodes = redis_nodes.plan_sentinel(
            self.root / "redis",
            [self.ports[f"redis-primary-{i}"] for i in range(1, 4)],
            [self.ports[f"sentinel-{i}"] for i in range(1, redis_nodes.SENTINELS + 1)],
        )
        logs = self.root / "logs"
        for node in nodes:
            self._add(node.proc)
        for rnode in [*cluster_nodes, *sentinel_nodes]:
            self._add(rnode.proc)
        self._add(services.plan_secantus(self.root, self.ports["secantus"]))
        self._add(services.plan_sandbox(logs, self.ports["wechat-sandbox"], self._service_env()))
        replicas = {
            name: [self.ports[f"{name}-{i}"] for i in range(1, services.REPLICAS + 1)]
            for name in SERVICES
        }
        self._add(
            plan_nginx(
                self.root / "nginx",
                replicas,
                [n.amqp_port for n in nodes],
                IngressPorts(self.ports["http"], self.ports["health"], self.ports["amqp"]),
            )
        )
        try:
            for proc in self.procs.values():
                if not proc.name.startswith("sentinel-"):
                    proc.start()
            self.save()
            await asyncio.gather(
                self._timed("rabbitmq", self._form_rabbit()),
                self._timed("redis-cluster", self._form_redis_cluster()),
                self._timed("sentinel", self._form_sentinel()),
                self._timed("secantus+sandbox", self._ready_stores()),
                wait_port(self.ports["http"], self.procs["nginx"]),
            )
            if with_services:
                await self.start_services()
        except BaseException:
            await self.stop(remove=False)
            raise
        self.timings["start"] = time.monotonic() - t0
        self.save()

    async def start_services(self) -> None:
        """Two replicas of each service, on the Redis `store` names; returns once every one
        answers readyz. Started after the broker formed: a quorum queue's members are the
        nodes running when it is declared."""
        t0 = time.monotonic()
        service_procs = self._plan_services()
        for proc in service_procs:
            proc.start()
        self.save()
        await asyncio.gather(*(self._wait_ready(p.name) for p in service_procs))
        self.timings["services"] = time.monotonic() - t0

    async def _timed(self, what: str, step: Awaitable[None]) -> None:
        t0 = time.monotonic()
        await step
        self.timings[what] = time.monotonic() - t0

    async def _form_rabbit(self) -> None:
        await asyncio.gather(
            *(self._wait_ready(f"rabbit-{i}", join=False) for i in self.rabbit_indexes)
        )
        seed = self.rabbit_node(1)
        # One at a time: two nodes joining at once now and then failed to start again
        # (a Mnesia schema merge raced, `start_app` exited 69).
        for i in self.rabbit_indexes:
            if i != 1:
                await self.ctl.join(self.rabbit_node(i), seed)
        await self.ctl.wait_running(seed, [self.rabbit_node(i) for i in self.rabbit_indexes])

    def _redis_cluster_nodes(self) -> list[redis_nodes.RedisNode]:
        return [
            redis_nodes.RedisNode(
                f"redis-cluster-{i}",
                self.ports[f"redis-cluster-{i}"],
                self.procs[f"redis-cluster-{i}"],
            )
            for i in range(1, 2 * redis_nodes.MASTERS + 1)
        ]

    @property
    def _sentinel_ports(self) -> list[int]:
        return [self.ports[f"sentinel-{i}"] for i in range(1, redis_nodes.SENTINELS + 1)]

    async def _form_redis_cluster(self) -> None:
        nodes = self._redis_cluster_nodes()
        await asyncio.gather(*(wait_port(n.port, n.proc) for n in nodes))
        await redis_nodes.create_cluster(nodes)

    async def _form_sentinel(self) -> None:
        data = [self.procs[f"redis-primary-{i}"] for i in range(1, 4)]
        await asyncio.gather(*(wait_port(self.ports[p.name], p) for p in data))
        await redis_nodes.wait_replicas(self.ports["redis-primary-1"], 2)
        sentinels = [self.procs[f"sentinel-{i}"] for i in range(1, redis_nodes.SENTINELS + 1)]
        for proc in sentinels:
            proc.start()
        self.save()
        await asyncio.gather(*(wait_port(self.ports[p.name], p) for p in sentinels))
        await redis_nodes.wait_sentinels_ready(self._sentinel_ports, replicas=2)

    async def _ready_stores(self) -> None:
        await wait_port(self.ports["secantus"], self.procs["secantus"])
        await services.seed(self.mongo_url, self.namespace, self.public_url)
        sandbox = self.procs["wechat-sandbox"]
        await services.wait_http(f"{self.sandbox_url}/__sandbox/health", sandbox)
        await services.open_sandbox(self.sandbox_url)

    async def _wait_ready(self, name: str, *, join: bool = True) -> None:
        """Until the process `name` serves: a service's readyz, a RabbitMQ node running in
        the cluster (`join`), any other server's port."""
        proc = self.procs[name]
        service = name.rsplit("-", 1)[0]
        if service in SERVICES:
            url = f"http://127.0.0.1:{self.ports[name]}/internal/{service}/readyz"
            await services.wait_http(url, proc)
        elif name.startswith("rabbit-"):
            await wait_port(self.ports[name], proc, within=120)
            if join:
                i = int(name.split("-")[1])
                want = [
                    self.rabbit_node(j)
                    for j in self.rabbit_indexes
                    if self.procs[f"rabbit-{j}"].alive()
                ]
                await self.ctl.wait_running(self.rabbit_node(i), want)
        else:
            await wait_port(self.ports[name], proc)

    async def stop(self, *, remove: bool = True) -> None:
        """Everything, services first (they drain), the stores and brokers last; with
        `remove`, the data and logs go too."""
        order = [
            [p for p in self.procs.values() if p.name.rsplit("-", 1)[0] in SERVICES],
            [self.procs[n] for n in ("nginx", "wechat-sandbox") if n in self.procs],
            [p for n, p in self.procs.items() if not _is_app(n) and n != "nginx"],
        ]
        t0 = time.monotonic()
        for group in order:
            await asyncio.gather(*(p.stop() for p in group))
        self.timings["stop"] = time.monotonic() - t0
        if remove and (self.root / MARKER).exists():
            shutil.rmtree(self.root, ignore_errors=True)
        else:
            (self.root / STATE).unlink(missing_ok=True)

    # --- faults: any process ----------------------------------------------------------

    def proc(self, name: str) -> Proc:
        try:
            return self.procs[name]
        except KeyError:
            raise ClusterError(f"no process {name!r}; there are {sorted(self.procs)}") from None

    async def kill(self, name: str) -> None:
        """kill -9 the process `name` (`rabbit-2`, `redis-cluster-1`, `account-1`, ...)."""
        await self.proc(name).kill()

    async def terminate(self, name: str) -> None:
        """A clean stop (SIGTERM) of `name`."""
        await self.proc(name).stop()

    async def restart(self, name: str) -> None:
        """Start `name` again on its port and data, returning once it serves."""
        proc = self.proc(name)
        if proc.alive():
            raise ClusterError(f"{name} is running")
        proc.start()
        self.save()
        await self._wait_ready(name)

    def pause(self, name: str) -> None:
        """SIGSTOP `name`: its sockets stay open, it answers nothing (a hung server)."""
        self.proc(name).pause()

    def resume(self, name: str) -> None:
        self.proc(name).resume()

    # --- RabbitMQ ---------------------------------------------------------------------

    def _live_rabbit(self) -> str:
        for i in self.rabbit_indexes:
            if self.procs[f"rabbit-{i}"].alive():
                return self.rabbit_node(i)
        raise ClusterError("no RabbitMQ node is running")

    async def queues(self) -> list[dict[str, Any]]:
        """Every queue of the cluster: name, type, leader node, members, online members."""
        return await self.ctl.queues(self._live_rabbit())

    async def queue_leader(self, queue: str) -> str:
        """The process (`rabbit-2`) whose node leads the quorum queue `queue`."""
        for row in await self.queues():
            if row["name"] == queue:
                i = next(i for i in self.rabbit_indexes if self.rabbit_node(i) == row["leader"])
                return f"rabbit-{i}"
        raise ClusterError(f"no queue {queue!r}")

    async def wait_queue_leader(self, queue: str, not_on: str, within: float = 30) -> str:
        """Until `queue` has a leader other than `not_on` (after that node was stopped)."""
        deadline = time.monotonic() + within
        while True:
            with _suppress_cluster_error():
                leader = await self.queue_leader(queue)
                if leader != not_on:
                    return leader
            if time.monotonic() > deadline:
                raise ClusterError(f"{queue} still led by {not_on} after {within:g} s")
            await asyncio.sleep(0.5)  # a Raft election takes a few seconds at most

    async def stop_broker(self) -> None:
        """The whole RabbitMQ cluster down, cleanly."""
        await asyncio.gather(*(self.procs[f"rabbit-{i}"].stop() for i in self.rabbit_indexes))

    async def start_broker(self) -> None:
        """Every stopped node started again; returns once all run in one cluster (each node
        waits on boot for the others it last saw)."""
        stopped = [i for i in self.rabbit_indexes if not self.procs[f"rabbit-{i}"].alive()]
        for i in stopped:
            self.procs[f"rabbit-{i}"].start()
        self.save()
        await asyncio.gather(*(self._wait_ready(f"rabbit-{i}", join=False) for i in stopped))
        await self.ctl.wait_running(
            self._live_rabbit(), [self.rabbit_node(i) for i in self.rabbit_indexes]
        )

    # --- Redis Cluster ----------------------------------------------------------------

    async def redis_masters(self) -> dict[str, list[str]]:
        """Each Redis Cluster master's process name -> its replicas' process names."""
        return await redis_nodes.cluster_masters(self._redis_cluster_nodes())

    async def fail_redis_master(self, name: str | None = None, within: float = 30) -> str:
        """kill -9 a Redis Cluster master (`name`, or the first) and return the replica that
        took over, once the cluster is ok again."""
        masters = await self.redis_masters()
        name = name or sorted(masters)[0]
        if name not in masters:
            raise ClusterError(f"{name} is not a master now: {masters}")
        await self.kill(name)
        deadline = time.monotonic() + within
        while True:
            with _suppress_cluster_error():
                now = await self.redis_masters()
                promoted = [r for r in masters[name] if r in now]
                if promoted:
                    await redis_nodes.wait_cluster_ok(self._redis_cluster_nodes(), within)
                    return promoted[0]
            if time.monotonic() > deadline:
                raise ClusterError(f"no replica of {name} took over in {within:g} s")
            await asyncio.sleep(0.1)  # polling the cluster's view while it votes

    # --- Sentinel ---------------------------------------------------------------------

    async def sentinel_primary(self) -> str:
        """The process name of the primary the Sentinels name now."""
        port = await redis_nodes.sentinel_primary(self._sentinel_ports)
        return next(
            n for n in self.procs if n.startswith("redis-primary-") and self.ports[n] == port
        )

    async def fail_sentinel_primary(self, within: float = 60) -> str:
        """kill -9 the Sentinel-watched primary; return the replica the Sentinels promoted."""
        old = await self.sentinel_primary()
        await self.kill(old)
        deadline = time.monotonic() + within
        while True:
            with _suppress_cluster_error():
                new = await self.sentinel_primary()
                if new != old and await redis_nodes.is_primary(self.ports[new]):
                    return new
            if time.monotonic() > deadline:
                raise ClusterError(f"the Sentinels did not replace {old} in {within:g} s")
            await asyncio.sleep(0.2)  # Sentinels need down-after-milliseconds and a vote

    # --- services ---------------------------------------------------------------------

    def replicas(self, service: str) -> list[str]:
        return [f"{service}-{i}" for i in range(1, services.REPLICAS + 1)]

    async def use_store(self, store: Store) -> None:
        """Every service replica running on the Redis Cluster or the Sentinel setup: started,
        or restarted if they run on the other."""
        running = [p for n, p in self.procs.items() if _is_service(n) and p.alive()]
        if store == self.store and len(running) == len(services.service_names()):
            return
        await asyncio.gather(*(p.stop() for p in running))
        self.store = store
        await self.start_services()


def _is_service(name: str) -> bool:
    return name.rsplit("-", 1)[0] in SERVICES


def _is_app(name: str) -> bool:
    return _is_service(name) or name == "wechat-sandbox"


def _suppress_cluster_error() -> contextlib.suppress:
    """A probe that failed while the cluster recovers is retried, not raised."""
    return contextlib.suppress(ClusterError, OSError, RedisError)


@contextlib.asynccontextmanager
async def running_cluster(root: Path, *, with_services: bool = True) -> AsyncIterator[Cluster]:
    """A cluster for a test session: the one `ML_CLUSTER_DIR` names (make cluster-up's,
    left running afterwards), else a new one in `root`, stopped and removed at the end."""
    if existing := os.environ.get("ML_CLUSTER_DIR"):
        yield Cluster.attach(Path(existing))
        return
    cluster = Cluster.plan(root)
    await cluster.start(with_services=with_services)
    try:
        yield cluster
    finally:
        await cluster.stop()
