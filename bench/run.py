"""Drive the scenarios against a fresh topology and collect what the report needs: the load
generator's results plus CPU seconds and memory of every process, read from /proc."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench.procstat import cpu_seconds, rss_bytes
from bench.profile import profile_services
from bench.topology import Topology, start_topology, raise_fd_limit

SETTLE = 2.0  # seconds between scenarios, so one's tail does not land in the next


@dataclass(frozen=True)
class Plan:
    latency_rate: float = 100  # logins/s for the push-vs-poll latency comparison
    peak_rate: float = 300  # logins/s for the throughput runs
    login_duration: float = 20
    ticket_rate: float = 1000  # tickets with QR image per second
    ticket_duration: float = 10
    idle: int = 20_000  # idle waiting browsers on one notifier
    idle_workers: int = 2  # load generator processes holding them (each has its own fd limit)
    profile: bool = False


QUICK = Plan(
    latency_rate=5, peak_rate=10, login_duration=2, ticket_rate=20, ticket_duration=1, idle=50,
    idle_workers=1,
)  # fmt: skip


@dataclass
class Phase:
    name: str
    args: dict[str, Any]
    result: dict[str, Any]
    wall: float
    cpu: dict[str, float]  # process -> CPU seconds during the phase
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Run:
    plan: Plan
    started: float
    phases: list[Phase]
    notifier_fd_limit: int
    profiles: dict[str, list[tuple[str, float]]] = field(default_factory=dict)

    def phase(self, name: str) -> Phase:
        return next(p for p in self.phases if p.name == name)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _cpu_snapshot(pids: dict[str, int]) -> dict[str, float]:
    return {name: cpu_seconds(pid) for name, pid in pids.items()}


async def _loadgen(
    spec: dict[str, Any], args: dict[str, Any]
) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.loadgen", json.dumps(spec), json.dumps(args),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip


async def _read_json(proc: asyncio.subprocess.Process) -> dict[str, Any]:
    assert proc.stdout is not None
    line = await proc.stdout.readline()
    if not line:
        await proc.wait()
        raise RuntimeError(f"load generator exited with {proc.returncode} and no result")
    result: dict[str, Any] = json.loads(line)
    return result


async def run_phase(
    topo: Topology, name: str, args: dict[str, Any], profile_for: float = 0
) -> Phase:
    pids = topo.pids()
    before = _cpu_snapshot(pids)
    t0 = time.monotonic()
    proc = await _loadgen(topo.spec(), args)
    profiling = (
        asyncio.create_task(profile_services(topo, profile_for)) if profile_for else None
    )
    result = await _read_json(proc)
    await proc.wait()
    wall = time.monotonic() - t0
    cpu = {n: cpu_seconds(pid) - before[n] for n, pid in pids.items()}
    cpu["load generator"] = result["loadgen_cpu"]
    phase = Phase(name, args, result, wall, cpu)
    if profiling is not None:
        phase.extra["profiles"] = await profiling
    return phase


async def run_idle(topo: Topology, count: int, workers: int) -> Phase:
    """Idle waiting browsers on the one notifier: RSS per held connection."""
    pids = topo.pids()
    notifier = pids["notifier"]
    base_rss = rss_bytes(notifier)
    before = _cpu_snapshot(pids)
    t0 = time.monotonic()
    per = [count // workers + (i < count % workers) for i in range(workers)]
    procs = []
    for i, n in enumerate(per):
        # Four loopback source addresses per worker; Linux routes all of 127/8 to lo.
        addresses = [f"127.0.{i + 1}.{j + 2}" for j in range(4)]
        args = {"scenario": "idle", "count": n, "addresses": addresses}
        procs.append(await _loadgen(topo.spec(), args))
    ready = [await _read_json(p) for p in procs]
    open_s = time.monotonic() - t0
    held = sum(r["ready"] for r in ready)
    rss = rss_bytes(notifier)
    await asyncio.sleep(3)  # hold them idle a moment, then look again
    rss_later = rss_bytes(notifier)
    fds = len(list(Path(f"/proc/{notifier}/fd").iterdir()))
    cpu_open = {n: cpu_seconds(pid) - before[n] for n, pid in pids.items()}
    for p in procs:
        assert p.stdin is not None
        p.stdin.write(b"close\n")
        await p.stdin.drain()
    finals = [await _read_json(p) for p in procs]
    for p in procs:
        await p.wait()
    cpu_open["load generator"] = sum(f["loadgen_cpu"] for f in finals)
    failed: dict[str, int] = {}
    for r in ready:
        for k, v in r["failed"].items():
            failed[k] = failed.get(k, 0) + v
    result = {
        "requested": count,
        "held": held,
        "still_open_after_hold": sum(f["still_open_at_end"] for f in finals),
        "failed": failed,
        "open_seconds": open_s,
        "rss_before": base_rss,
        "rss_held": max(rss, rss_later),
        "notifier_fds": fds,
    }
    return Phase("idle", {"count": count, "workers": workers}, result, open_s, cpu_open)


async def run(plan: Plan) -> Run:
    fd_limit = raise_fd_limit()
    # One notifier process needs a descriptor per socket plus its own few dozen.
    idle = min(plan.idle, fd_limit - 100)
    started = time.time()
    async with start_topology() as topo:
        phases = [await run_idle(topo, idle, plan.idle_workers)]
        await asyncio.sleep(SETTLE)
        phases.append(
            await run_phase(
                topo,
                "tickets",
                {"scenario": "tickets", "rate": plan.ticket_rate, "duration": plan.ticket_duration},
            )
        )
        for label, rate in (("latency", plan.latency_rate), ("peak", plan.peak_rate)):
            for mode in ("push", "poll"):
                await asyncio.sleep(SETTLE)
                profile_for = (
                    plan.login_duration if plan.profile and (label, mode) == ("peak", "push")
                    else 0
                )  # fmt: skip
                args = {
                    "scenario": "logins",
                    "mode": mode,
                    "rate": rate,
                    "duration": plan.login_duration,
                }
                phases.append(await run_phase(topo, f"{label}-{mode}", args, profile_for))
    return Run(plan, started, phases, fd_limit)
