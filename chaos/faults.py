"""The faults of the suite, each done to a running cluster (cluster.Cluster) and undone after.

A fault's `inject` returns when the fault is over for the users: the failover finished, the
broker or Redis is back. `heal` then puts the cluster as it was before the next scenario
(killed processes started again), outside the measured load."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import aio_pika

from account.consumers import QUEUE as WORK_QUEUE
from bench.topology import SERVICES
from cluster import Cluster
from cluster.redis_nodes import MASTERS

BROKER_OUTAGE = 30.0
REDIS_PAUSE = 10.0
POISON = b'{"type": "ticket.confirmed", "version": 1, "not": "an event'


@dataclass
class Fault:
    """What one scenario does; `notes` collects what the fault looked like as it ran."""

    name: str
    title: str
    store: str  # the Redis the services run on: "cluster" or "sentinel"
    inject: Callable[[Fault, Cluster], Awaitable[None]]
    heal: Callable[[Fault, Cluster], Awaitable[None]]
    notes: dict[str, str] = field(default_factory=dict)
    killed: list[str] = field(default_factory=list)

    def note(self, key: str, value: str) -> None:
        self.notes[key] = value


async def restart_killed(fault: Fault, cluster: Cluster) -> None:
    for name in fault.killed:
        if not cluster.proc(name).alive():
            await cluster.restart(name)
    fault.killed.clear()


async def nothing(fault: Fault, cluster: Cluster) -> None:
    del fault, cluster


async def kill_replicas(fault: Fault, cluster: Cluster) -> None:
    """kill -9 of replica 1 of every service at once; replica 2 carries on alone."""
    fault.killed = [f"{service}-1" for service in SERVICES]
    await asyncio.gather(*(cluster.kill(name) for name in fault.killed))
    fault.note("killed", ", ".join(fault.killed))


async def kill_queue_leader(fault: Fault, cluster: Cluster) -> None:
    """kill -9 of the RabbitMQ node leading account's work queue; over once a new leader
    is elected."""
    queue = f"{cluster.namespace}.{WORK_QUEUE}"
    leader = await cluster.queue_leader(queue)
    t0 = time.monotonic()
    await cluster.kill(leader)
    fault.killed = [leader]
    new = await cluster.wait_queue_leader(queue, not_on=leader)
    fault.note("queue", WORK_QUEUE)
    fault.note("leader", f"{leader} killed; {new} led after {time.monotonic() - t0:.1f} s")


async def fail_cluster_master(fault: Fault, cluster: Cluster) -> None:
    t0 = time.monotonic()
    masters = await cluster.redis_masters()
    old = sorted(masters)[0]
    new = await cluster.fail_redis_master(old)
    fault.killed = [old]
    fault.note("failover", f"{old} killed; {new} took over in {time.monotonic() - t0:.1f} s")


async def fail_sentinel_primary(fault: Fault, cluster: Cluster) -> None:
    t0 = time.monotonic()
    old = await cluster.sentinel_primary()
    new = await cluster.fail_sentinel_primary()
    fault.killed = [old]
    fault.note("failover", f"{old} killed; {new} promoted in {time.monotonic() - t0:.1f} s")


async def broker_outage(fault: Fault, cluster: Cluster) -> None:
    """The whole RabbitMQ cluster stopped for 30 s, then started."""
    t0 = time.monotonic()
    await cluster.stop_broker()
    await asyncio.sleep(BROKER_OUTAGE - (time.monotonic() - t0))
    t1 = time.monotonic()
    await cluster.start_broker()
    fault.note("outage", f"{BROKER_OUTAGE:g} s down; clustered again {time.monotonic() - t1:.1f} s")


def _redis_data_nodes(cluster: Cluster) -> list[str]:
    if cluster.store == "cluster":
        return [f"redis-cluster-{i}" for i in range(1, 2 * MASTERS + 1)]
    return [n for n in cluster.procs if n.startswith("redis-primary-")]


async def pause_redis(fault: Fault, cluster: Cluster) -> None:
    """Every Redis data node SIGSTOPped for 10 s (paused together, so none fails over)."""
    nodes = _redis_data_nodes(cluster)
    for name in nodes:
        cluster.pause(name)
    try:
        await asyncio.sleep(REDIS_PAUSE)  # the fault itself: Redis hung for this long
    finally:
        for name in nodes:
            cluster.resume(name)
    fault.note("paused", f"{len(nodes)} nodes for {REDIS_PAUSE:g} s")


async def kill_mongo(fault: Fault, cluster: Cluster) -> None:
    """kill -9 of SecantusDB, started again at once on its data (as a supervisor would)."""
    t0 = time.monotonic()
    await cluster.kill("secantus")
    await cluster.restart("secantus")
    fault.note("restart", f"serving again after {time.monotonic() - t0:.1f} s")


async def poison_message(fault: Fault, cluster: Cluster) -> None:
    """A message no consumer can decode, published straight to account's work queue."""
    queue = f"{cluster.namespace}.{WORK_QUEUE}"
    connection = await aio_pika.connect(cluster.amqp_node_url(1))
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        await channel.default_exchange.publish(
            aio_pika.Message(POISON, delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
            routing_key=queue,
        )
    fault.note("published", f"{len(POISON)} undecodable bytes to {WORK_QUEUE}")


async def count_dead_letters(fault: Fault, cluster: Cluster) -> None:
    """How many messages sit in the work queue's dead-letter queue (the poison, we hope)."""
    connection = await aio_pika.connect(cluster.amqp_node_url(1))
    async with connection:
        channel = await connection.channel()
        dead = await channel.get_queue(f"{cluster.namespace}.{WORK_QUEUE}.dead", ensure=True)
        fault.note("dead-lettered", str(dead.declaration_result.message_count))


# Faults that are not about Redis run on the Sentinel setup; the Redis Cluster failover
# scenario comes last, so the services' store is switched once.
FAULTS = [
    Fault("replicas", "kill -9 of one replica of each service", "sentinel", kill_replicas,
          restart_killed),
    Fault("rabbit-node", "loss of the RabbitMQ node leading the work queue", "sentinel",
          kill_queue_leader, restart_killed),
    Fault("sentinel", "Sentinel primary killed and failed over", "sentinel",
          fail_sentinel_primary, restart_killed),
    Fault("broker-outage", "the whole broker down for 30 s", "sentinel", broker_outage,
          nothing),
    Fault("redis-pause", "Redis paused for 10 s", "sentinel", pause_redis, nothing),
    Fault("mongo", "kill -9 of the MongoDB wire server", "sentinel", kill_mongo, nothing),
    Fault("poison", "a poison message on the work queue", "sentinel", poison_message,
          count_dead_letters),
    Fault("redis-cluster", "Redis Cluster master killed and failed over", "cluster",
          fail_cluster_master, restart_killed),
]  # fmt: skip


def fault_named(name: str) -> Fault:
    for fault in FAULTS:
        if fault.name == name:
            return fault
    raise KeyError(f"no fault {name!r}; there are {[f.name for f in FAULTS]}")
