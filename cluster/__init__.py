"""The cluster topologies of docs/operations.md, run for real on one machine from Debian's
packages: three clustered RabbitMQ nodes with quorum queues, a Redis Cluster (three masters,
three replicas), a Sentinel setup, and two replicas of each service behind nginx.

    cluster = Cluster.plan(Path("var/cluster"))
    await cluster.start()
    await cluster.kill("rabbit-2")              # and restart("rabbit-2"), queue_leader(...)
    await cluster.fail_redis_master()           # a replica takes over
    await cluster.stop()

`python -m cluster up|down|status` (make cluster-up / cluster-down) is the same from a shell."""

from cluster.procs import ClusterError
from cluster.topology import DEFAULT_DIR, Cluster, running_cluster

__all__ = ["DEFAULT_DIR", "Cluster", "ClusterError", "running_cluster"]
