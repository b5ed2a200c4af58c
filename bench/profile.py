"""Sample the services with py-spy while a scenario runs, and name where their time goes.

py-spy is not a dependency of the harness: `python -m bench --profile` needs it on PATH or
in the virtualenv (`pip install py-spy`)."""

from __future__ import annotations

import asyncio
import shutil
import sys
import tempfile
from collections import Counter
from pathlib import Path

from bench.topology import SERVICES, Topology

TOP = 8


def py_spy() -> str:
    beside = Path(sys.executable).parent / "py-spy"
    found = str(beside) if beside.exists() else shutil.which("py-spy")
    if found is None:
        raise RuntimeError("--profile needs py-spy: pip install py-spy")
    return found


def top_frames(collapsed: str, top: int = TOP) -> list[tuple[str, float]]:
    """The functions with the most samples at the top of the stack, as % of all samples."""
    own: Counter[str] = Counter()
    total = 0
    for line in collapsed.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        total += n
        own[stack.rsplit(";", 1)[-1]] += n
    return [(frame, 100 * n / total) for frame, n in own.most_common(top)] if total else []


async def profile_services(topo: Topology, seconds: float) -> dict[str, list[tuple[str, float]]]:
    out = Path(tempfile.mkdtemp(prefix="mlbench-profile-"))
    tool = py_spy()
    targets = [*SERVICES, "wechat-sandbox", "SecantusDB"]
    procs = {
        name: await asyncio.create_subprocess_exec(
            tool,
            "record",
            "--format",
            "raw",
            "--rate",
            "100",
            "--nonblocking",
            "--subprocesses",  # a service's ML_WORKERS processes
            "--duration",
            str(int(seconds)),
            "--pid",
            str(topo.procs[name].pid),
            "--output",
            str(out / f"{name}.txt"),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        for name in targets
    }
    for proc in procs.values():
        await proc.wait()
    profiles = {}
    for name in targets:
        path = out / f"{name}.txt"
        profiles[name] = top_frames(path.read_text()) if path.exists() else []
    return profiles
