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

from bench.procstat import CpuSample, cpu_sample, cpu_seconds, cpu_used, open_fds, rss_bytes
from bench.profile import profile_services
from bench.topology import Topology, raise_fd_limit, start_topology

BENCH_ROOT = Path(__file__).resolve().parent.parent  # where `python -m bench.loadgen` resolves


@dataclass(frozen=True)
class Plan:
    light_rate: float = 20  # logins/s well inside capacity: latency without queueing
    latency_rate: float = 100  # logins/s for the push-vs-poll latency comparison
    peak_rate: float = 300  # logins/s for the throughput runs
    capacity_rate: float = 150  # logins/s this machine is expected to carry without errors
    login_duration: float = 12
    ticket_rate: float = 1000  # tickets with QR image per second
    ticket_duration: float = 5
    idle: int = 20_000  # idle waiting browsers on one notifier
    idle_workers: int = 2  # load generator processes holding them (each has its own fd limit)
    settle: float = 2.0  # seconds between phases, so one's tail does not land in the next
    hold: float = 3.0  # seconds the idle sockets are held before their memory is read again
    profile: bool = False


QUICK = Plan(
    light_rate=3, latency_rate=5, peak_rate=10, capacity_rate=8, login_duration=1.5,
    ticket_rate=20, ticket_duration=1, idle=50, idle_workers=1, settle=0.2, hold=0.2,
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


def _cpu_snapshot(pids: dict[str, int]) -> dict[str, CpuSample]:
    return {name: s for name, pid in pids.items() if (s := cpu_sample(pid)) is not None}


def _cpu_since(before: dict[str, CpuSample]) -> dict[str, float]:
    """CPU seconds per process since `before`; one that ended meanwhile (another test's
    Redis, a rabbitmqctl's beam.smp) has no figure rather than a wrong one."""
    out = {}
    for name, start in before.items():
        pid = next(iter(start.own))[0]
        end = cpu_sample(pid)
        used = None if end is None else cpu_used(start, end)
        if used is not None:
            out[name] = used
    return out


async def _loadgen(spec: dict[str, Any], args: dict[str, Any]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.loadgen", json.dumps(spec), json.dumps(args),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, cwd=BENCH_ROOT,
        limit=2**26,  # one JSON line carries every latency sample
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
    profiling = asyncio.create_task(profile_services(topo, profile_for)) if profile_for else None
    result = await _read_json(proc)
    await proc.wait()
    wall = time.monotonic() - t0
    cpu = _cpu_since(before)
    cpu["load generator"] = result["loadgen_cpu"]
    phase = Phase(name, args, result, wall, cpu)
    if profiling is not None:
        phase.extra["profiles"] = await profiling
    return phase


async def run_idle(topo: Topology, count: int, workers: int, hold: float) -> Phase:
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
    await asyncio.sleep(hold)  # hold them idle a moment, then look again
    rss_later = rss_bytes(notifier)
    fds = open_fds(notifier)
    cpu_open = _cpu_since(before)
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


async def quiesce(topo: Topology, settle: float, limit: float = 30) -> None:
    """Wait until the services have worked off what an overloaded phase left queued (they
    use under a tenth of a core together), then `settle` more seconds."""
    pids = list(topo.pids().values())
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        before = sum(cpu_seconds(p) for p in pids)
        await asyncio.sleep(0.5)
        if sum(cpu_seconds(p) for p in pids) - before < 0.05:
            break
    await asyncio.sleep(settle)


async def run(plan: Plan) -> Run:
    fd_limit = raise_fd_limit()
    # One notifier process needs a descriptor per socket plus its own few dozen.
    idle = min(plan.idle, fd_limit - 100)
    started = time.time()
    async with start_topology() as topo:
        phases = [await run_idle(topo, idle, plan.idle_workers, plan.hold)]
        await quiesce(topo, plan.settle)
        phases.append(
            await run_phase(
                topo,
                "tickets",
                {"scenario": "tickets", "rate": plan.ticket_rate, "duration": plan.ticket_duration},
            )
        )
        phases_rates = (
            ("light", plan.light_rate, ("push", "poll")),
            ("latency", plan.latency_rate, ("push", "poll")),
            ("capacity", plan.capacity_rate, ("push",)),
            ("peak", plan.peak_rate, ("push", "poll")),
        )
        for label, rate, modes in phases_rates:
            for mode in modes:
                await quiesce(topo, plan.settle)
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
