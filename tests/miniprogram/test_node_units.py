"""Runs the mini program's JavaScript unit tests (Node's built-in runner)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

MINIPROGRAM = Path(__file__).resolve().parents[2] / "miniprogram"


@pytest.mark.node
def test_miniprogram_node_unit_tests() -> None:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not on PATH: install Node.js 20+ to run the mini program's tests")
    version = subprocess.run(  # noqa: S603 - fixed argv, no shell
        [node, "--version"], capture_output=True, text=True, check=False, timeout=30
    ).stdout.strip()
    found = re.match(r"v(\d+)\.", version)
    if found is None or int(found.group(1)) < 20:
        pytest.fail(f"Node.js 20+ is needed for `node --test`, found {version!r}")

    result = subprocess.run(  # noqa: S603 - fixed argv, no shell
        [node, "--test", "test/"],
        cwd=MINIPROGRAM,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, (
        f"node --test failed (exit {result.returncode})\n"
        f"--- stdout (tail) ---\n{result.stdout[-8000:]}\n"
        f"--- stderr (tail) ---\n{result.stderr[-4000:]}"
    )
