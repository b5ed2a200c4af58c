"""`python -m chaos` (make chaos): start the local cluster, run every fault scenario under
load, write the report, stop the cluster."""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from dataclasses import asdict
from pathlib import Path

from chaos.faults import FAULTS, fault_named
from chaos.report import render
from chaos.run import USERS, Load, Outcome, run_scenario, sandbox_users
from cluster import Cluster, ClusterError

ROOT = Path(__file__).resolve().parents[1]


async def suite(
    names: list[str], load: Load, workdir: Path, broken: dict[str, str], *, keep: bool = False
) -> list[Outcome]:
    """Every scenario named, in turn, on one cluster; a scenario whose fault could not be
    done or undone goes into `broken` with why, and the rest still run."""
    # On the Sentinel setup first: every scenario but the Redis Cluster one (the last) uses it.
    cluster = Cluster.plan(workdir / "cluster", namespace="mlchaos", store="sentinel")
    await cluster.start()
    outcomes = []
    subs: dict[str, str] = {}
    try:
        openids = await sandbox_users(cluster, USERS)
        for name in names:
            t0 = time.monotonic()
            try:
                outcome = await run_scenario(cluster, fault_named(name), load, openids, subs)
            except (ClusterError, OSError, TimeoutError) as exc:
                broken[name] = f"{type(exc).__name__}: {str(exc)[:300]}"
                print(f"{name}: not run: {broken[name]}", flush=True)
                continue
            outcomes.append(outcome)
            print(f"{name}: {dict(outcome.tally.fates)} recovery {outcome.tally.recovery} "
                  f"({time.monotonic() - t0:.0f} s)", flush=True)  # fmt: skip
            timeline = [asdict(x) for x in outcome.logins]
            (workdir / f"{name}.json").write_text(json.dumps(timeline))
    finally:
        await cluster.stop(remove=not keep)
    return outcomes


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m chaos", description=__doc__)
    parser.add_argument("--scenarios", default=",".join(f.name for f in FAULTS))
    parser.add_argument("--rate", type=float, default=15.0, help="logins started a second")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load")
    parser.add_argument("--fault-at", type=float, default=15.0, help="seconds into the load")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "reliability.md")
    parser.add_argument("--workdir", type=Path, default=ROOT / "var" / "chaos")
    parser.add_argument(
        "--keep", action="store_true", help="keep the cluster's logs and data in the workdir"
    )
    args = parser.parse_args()
    load = Load(rate=args.rate, duration=args.duration, fault_at=args.fault_at)
    args.workdir.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    broken: dict[str, str] = {}
    outcomes = asyncio.run(
        suite(args.scenarios.split(","), load, args.workdir, broken, keep=args.keep)
    )
    args.out.write_text(render(outcomes, load, "make chaos", time.monotonic() - t0, broken))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
