"""Runs the mini program's JavaScript tests (Node's built-in runner): the page logic with a
fake `wx`, and the login page rendered by WeChat's own WXML compiler through
miniprogram-simulate, whose pinned packages `npm ci` installs from the committed lock."""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
from pathlib import Path

import pytest

MINIPROGRAM = Path(__file__).resolve().parents[2] / "miniprogram"
LOCK = MINIPROGRAM / "package-lock.json"
# Written after a successful `npm ci`: the lock node_modules was installed from.
STAMP = MINIPROGRAM / "node_modules" / ".minilogin-lock.sha256"


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not on PATH: install Node.js 20+ to run the mini program's tests")
    version = subprocess.run(  # noqa: S603 - fixed argv, no shell
        [node, "--version"], capture_output=True, text=True, check=False, timeout=30
    ).stdout.strip()
    found = re.match(r"v(\d+)\.", version)
    if found is None or int(found.group(1)) < 20:
        pytest.fail(f"Node.js 20+ is needed for `node --test`, found {version!r}")
    return node


def _install_node_modules() -> None:
    """`npm ci` when node_modules is missing or came from another lock (a fresh clone, a
    changed pin); otherwise nothing. No install scripts run: none of the packages needs one."""
    digest = hashlib.sha256(LOCK.read_bytes()).hexdigest()
    if STAMP.is_file() and STAMP.read_text().strip() == digest:
        return
    npm = shutil.which("npm")
    if npm is None:
        pytest.fail("npm is not on PATH: it installs the mini program's test packages")
    result = subprocess.run(  # noqa: S603 - fixed argv, no shell
        [npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund"],
        cwd=MINIPROGRAM,
        capture_output=True,
        text=True,
        check=False,
        timeout=200,
    )
    assert result.returncode == 0, (
        f"npm ci failed (exit {result.returncode})\n"
        f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    )
    STAMP.write_text(digest + "\n")


@pytest.mark.node
# A first run installs the packages (npm ci, about 10 s on a warm cache) before the tests.
@pytest.mark.timeout(300)
def test_miniprogram_node_unit_tests() -> None:
    node = _node()
    _install_node_modules()
    result = subprocess.run(  # noqa: S603 - fixed argv, no shell
        [node, "--test", "test/"],
        cwd=MINIPROGRAM,
        capture_output=True,
        text=True,
        check=False,
        timeout=280,
    )
    assert result.returncode == 0, (
        f"node --test failed (exit {result.returncode})\n"
        f"--- stdout (tail) ---\n{result.stdout[-8000:]}\n"
        f"--- stderr (tail) ---\n{result.stderr[-4000:]}"
    )
    # The page-level checks ran (the template rendered through WeChat's compiler): a missing
    # package fails them, never skips them.
    rendered = r"^ok \d+ - every event binding in login\.wxml was rendered"
    assert re.search(rendered, result.stdout, re.M), result.stdout[-2000:]
