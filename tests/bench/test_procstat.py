"""The benchmark's CPU figures: a process tree's use between two samples is never negative
and never counts a child's time twice, however its children come and go."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from bench.procstat import CpuSample, cpu_sample, cpu_used

ROOT, CHILD = (100, 1), (200, 7)


def test_a_child_reaped_in_the_tree_counts_once() -> None:
    before = CpuSample(own={ROOT: 1.0, CHILD: 3.0}, reaped={ROOT: 0.0, CHILD: 0.0})
    # The child used 0.5 s more, ended, and its parent reaped it: 3.5 s in reaped time.
    after = CpuSample(own={ROOT: 1.2}, reaped={ROOT: 3.5})
    assert cpu_used(before, after) == pytest.approx(0.2 + 0.5)


def test_a_child_gone_unreaped_loses_its_last_slice_and_nothing_more() -> None:
    before = CpuSample(own={ROOT: 1.0, CHILD: 3.0}, reaped={ROOT: 0.0, CHILD: 0.0})
    after = CpuSample(own={ROOT: 1.2}, reaped={ROOT: 0.0})
    assert cpu_used(before, after) == pytest.approx(0.2)


def test_a_replaced_root_has_no_figure() -> None:
    before = CpuSample(own={ROOT: 5.0}, reaped={ROOT: 0.0})
    after = CpuSample(own={(100, 2): 0.1}, reaped={(100, 2): 0.0})
    assert cpu_used(before, after) is None


def test_a_sample_takes_in_a_working_child_and_a_reaped_one() -> None:
    spin = "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.3: pass"
    # It says when it has spun its 0.3 s, then waits on stdin.
    wait = "\nimport sys; print('spun', flush=True); sys.stdin.read()"
    child = subprocess.Popen(  # noqa: S603
        [sys.executable, "-c", spin + wait], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    me = os.getpid()
    try:
        assert child.stdout is not None
        assert child.stdout.readline() == b"spun\n"
        before = cpu_sample(me)
        assert before is not None
        # /proc counts whole clock ticks: 0.3 s of process time may read 0.29.
        assert sum(s for (pid, _), s in before.own.items() if pid == child.pid) >= 0.25
    finally:
        assert child.stdin is not None
        child.stdin.close()
        child.wait()
        if child.stdout is not None:
            child.stdout.close()
    after = cpu_sample(me)
    assert after is not None
    assert all(pid != child.pid for pid, _ in after.own)
    assert after.reaped[next(iter(after.own))] - before.reaped[next(iter(before.own))] >= 0.25
    used = cpu_used(before, after)
    assert used is not None
    assert 0 <= used < 0.3  # the child's spin was before the first sample
    assert cpu_sample(2**22 + 1) is None  # above the default pid_max: no such process
