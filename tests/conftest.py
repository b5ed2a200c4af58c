"""Fixtures every suite shares: the real MongoDB wire server, namespaces, whole stacks."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
from minilogin_testkit import Stack, start_stack

from shared.clock import FakeClock, SystemClock


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def mongo_url() -> Iterator[str]:
    """A real MongoDB wire-protocol server in its own process: `MONGO_URL` if given
    (a real mongod), else SecantusDB started here."""
    if url := os.environ.get("MONGO_URL"):
        yield url
        return
    port = _free_port()
    proc = subprocess.Popen(  # noqa: S603  # our own interpreter running a known module
        [
            sys.executable,
            "-m",
            "secantus",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--storage-path",
            ":memory:",
            "--log-level",
            "WARNING",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                err = proc.stderr.read().decode() if proc.stderr else ""
                proc.kill()
                pytest.fail(f"SecantusDB did not start: {err[-2000:]}")
            time.sleep(0.05)  # polling a port that is still opening, not synchronising a test
    yield f"mongodb://127.0.0.1:{port}/"
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture
def namespace() -> str:
    return f"mltest{uuid.uuid4().hex[:12]}"


@pytest.fixture(params=["embedded", pytest.param("real", marks=pytest.mark.real)])
def stack_kind(request: pytest.FixtureRequest) -> str:
    kind: str = request.param
    return kind


@pytest.fixture
async def stack(stack_kind: str, mongo_url: str, namespace: str) -> AsyncIterator[Stack]:
    """The whole system with a real clock, embedded or over the real broker and stores."""
    async with start_stack(stack_kind, mongo_url, namespace, SystemClock()) as s:
        yield s


@pytest.fixture
async def fake_clock_stack(stack_kind: str, mongo_url: str, namespace: str) -> AsyncIterator[Stack]:
    """The same, with time the test moves by hand (expiry without sleeping)."""
    async with start_stack(stack_kind, mongo_url, namespace, FakeClock()) as s:
        yield s


@pytest.fixture
async def real_stack(mongo_url: str, namespace: str) -> AsyncIterator[Stack]:
    """Only the real topology: separate service apps, two notifier replicas."""
    async with start_stack("real", mongo_url, namespace, SystemClock()) as s:
        yield s
