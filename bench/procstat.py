"""CPU time and resident memory of processes, read from /proc (Linux only)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK")
_PAGE = os.sysconf("SC_PAGE_SIZE")


def _stat(pid: int) -> list[str] | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces; the fields after its ")" are fixed.
    return stat[stat.rindex(")") + 2 :].split()


@dataclass(frozen=True)
class CpuSample:
    """CPU seconds of one process tree at one moment, per process (keyed by pid and start
    time, so a reused pid is a new process): its own, and its reaped children's."""

    own: dict[tuple[int, int], float]
    reaped: dict[tuple[int, int], float]

    @property
    def total(self) -> float:
        return sum(self.own.values()) + sum(self.reaped.values())


def cpu_sample(pid: int) -> CpuSample | None:
    """The tree under `pid` (a service's ML_WORKERS processes, say); None if it is gone."""
    own: dict[tuple[int, int], float] = {}
    reaped: dict[tuple[int, int], float] = {}
    pending = [pid]
    while pending:
        current = pending.pop()
        fields = _stat(current)
        if fields is None:
            if current == pid:
                return None
            continue  # a child that ended while we looked
        key = (current, int(fields[19]))  # field 22, starttime
        own[key] = (int(fields[11]) + int(fields[12])) / _TICKS
        reaped[key] = (int(fields[13]) + int(fields[14])) / _TICKS
        pending += children(current)
    return CpuSample(own, reaped)


def cpu_used(before: CpuSample, after: CpuSample) -> float | None:
    """CPU seconds the tree used between two samples; None if its root was replaced.

    A child that ended between them counts through its parent's reaped time, which takes
    in the child's whole life, so what the child had used by `before` is taken off there.
    A child that is gone without being reaped in the tree loses only its last slice,
    instead of turning the figure negative."""
    if next(iter(before.own)) != next(iter(after.own)):
        return None
    own = sum(s - before.own.get(k, 0.0) for k, s in after.own.items())
    reaped = sum(s - before.reaped.get(k, 0.0) for k, s in after.reaped.items())
    ended = sum(s for k, s in before.own.items() if k not in after.own)
    ended += sum(s for k, s in before.reaped.items() if k not in after.reaped)
    return own + max(0.0, reaped - ended)


def cpu_seconds(pid: int) -> float:
    """CPU seconds the tree under `pid` has used so far (0 if it is gone)."""
    sample = cpu_sample(pid)
    return 0.0 if sample is None else sample.total


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            found += [int(c) for c in task.read_text().split()]
        except OSError:
            continue
    return found


def rss_bytes(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * _PAGE
    except OSError:
        return 0


def open_fds(pid: int) -> int:
    try:
        return sum(1 for _ in Path(f"/proc/{pid}/fd").iterdir())
    except OSError:
        return 0


def pids_named(name: str) -> list[int]:
    """Processes whose command name (`/proc/<pid>/comm`) is `name`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "comm").read_text().strip() == name:
                found.append(int(entry.name))
        except OSError:
            continue
    return sorted(found)
