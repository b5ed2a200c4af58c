"""`python -m cluster up|down|status`: the local cluster for make cluster-up / cluster-down.

`up` starts everything, writes the addresses it chose to <dir>/cluster.env and exits, leaving
the cluster running; `down` stops it and removes its folder."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from cluster.procs import ClusterError
from cluster.topology import DEFAULT_DIR, ENV_FILE, Cluster


async def up(root: Path, store: str) -> None:
    cluster = Cluster.plan(root, store="sentinel" if store == "sentinel" else "cluster")
    await cluster.start()
    print(f"cluster up in {cluster.timings['start']:.1f} s; addresses in {root / ENV_FILE}")
    for key, value in cluster.env().items():
        print(f"  {key}={value}")


async def down(root: Path) -> None:
    cluster = Cluster.attach(root)
    await cluster.stop()
    print(f"cluster down in {cluster.timings['stop']:.1f} s")


async def status(root: Path) -> None:
    cluster = Cluster.attach(root)
    for name, proc in sorted(cluster.procs.items()):
        state = "up" if proc.alive() else "DOWN"
        print(f"{name:24} {state:5} pid {proc.pid:<8} port {cluster.ports.get(name, '')}")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m cluster", description=__doc__)
    parser.add_argument("command", choices=["up", "down", "status"])
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR, help="state, data and logs")
    parser.add_argument(
        "--store",
        choices=["cluster", "sentinel"],
        default="cluster",
        help="the Redis the services use: Redis Cluster or the Sentinel setup",
    )
    args = parser.parse_args()
    try:
        if args.command == "up":
            asyncio.run(up(args.dir, args.store))
        elif args.command == "down":
            if args.dir.exists():
                asyncio.run(down(args.dir))
            else:
                print("no cluster running")
        else:
            asyncio.run(status(args.dir))
    except ClusterError as exc:
        print(f"cluster: {exc}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
