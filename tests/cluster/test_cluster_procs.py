"""The cluster's process handles: a pid that now belongs to another process is never taken
for ours or signalled, and the faults (kill -9, SIGSTOP, SIGCONT) act before they return."""

from __future__ import annotations

import signal
import sys
from pathlib import Path

from cluster.procs import Proc, process_state


def sleeper(tmp_path: Path) -> Proc:
    proc = Proc("sleeper", [sys.executable, "-c", "import time; time.sleep(60)"],
                str(tmp_path / "sleeper.log"))  # fmt: skip
    proc.start()
    return proc


async def test_a_reused_pid_is_neither_alive_nor_signalled(tmp_path: Path) -> None:
    ours = sleeper(tmp_path)
    try:
        # The same pid with another start time: what a state file says after a reboot.
        stale = Proc.from_json({**ours.to_json(), "started": ours.started + 1})
        assert not stale.alive()
        stale.signal(signal.SIGTERM)
        await stale.stop()
        assert ours.alive()
    finally:
        await ours.kill()
    assert not ours.alive()


async def test_a_paused_process_is_stopped_on_return_and_runs_after_resume(
    tmp_path: Path,
) -> None:
    proc = sleeper(tmp_path)
    try:
        proc.pause()
        assert process_state(proc.pid) == "T"
        proc.resume()
        assert process_state(proc.pid) in ("S", "R")
    finally:
        await proc.stop()
    assert not proc.alive()
