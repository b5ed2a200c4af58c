"""The cluster's processes: how each is started again, and the signals a fault test sends.

Every process runs in a session of its own, so the cluster outlives the `make cluster-up`
that started it and a Ctrl-C in that terminal reaches none of them. A process is known by
its spec (command line, extra environment, log), so another Python process (`make
cluster-down`, a chaos test attaching to a running cluster) can stop or restart it too."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

# Children of this process, so their exit is reaped (a zombie still answers kill(pid, 0)).
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


class ClusterError(RuntimeError):
    pass


@dataclass
class Proc:
    name: str
    argv: list[str]
    log: str
    env: dict[str, str] = field(default_factory=dict)  # on top of the caller's environment
    pid: int = 0
    # When the process started (clock ticks since boot): a pid the kernel gave to another
    # process since, after this one died, is never taken for it or sent a signal.
    started: int = 0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Proc:
        return cls(**data)

    def start(self) -> None:
        with open(self.log, "ab") as out:
            proc = subprocess.Popen(  # noqa: S603  # the cluster's own fixed command lines
                self.argv,
                env={**inherited_env(), **self.env},
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        _CHILDREN[proc.pid] = proc
        self.pid = proc.pid
        self.started = _start_time(proc.pid)

    def alive(self) -> bool:
        if self.pid <= 0 or not alive(self.pid):
            return False
        return self.started in (0, _start_time(self.pid))  # 0: a state file from before

    def tail(self) -> str:
        """The end of the process's log, for the error that says it failed."""
        try:
            return Path(self.log).read_text(errors="replace")[-2000:]
        except OSError:
            return ""

    def signal(self, sig: signal.Signals) -> None:
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, sig)

    async def stop(self, within: float = 20) -> None:
        """SIGTERM, then SIGKILL if it has not exited within `within` seconds."""
        if not self.alive():
            return
        self.signal(signal.SIGCONT)  # a paused process cannot act on SIGTERM
        self.signal(signal.SIGTERM)
        if not await self._wait_exit(within):
            await self.kill()

    async def kill(self) -> None:
        """kill -9, returning once the process is gone."""
        self.signal(signal.SIGKILL)
        if not await self._wait_exit(10):
            raise ClusterError(f"{self.name} (pid {self.pid}) survived SIGKILL")

    def pause(self) -> None:
        """SIGSTOP: the process keeps its sockets open and answers nothing, as a hung server."""
        self.signal(signal.SIGSTOP)
        deadline = time.monotonic() + 5
        while process_state(self.pid) not in ("T", "t", "") and time.monotonic() < deadline:
            time.sleep(0.01)  # the stop is delivered asynchronously; it takes microseconds

    def resume(self) -> None:
        self.signal(signal.SIGCONT)

    async def _wait_exit(self, within: float) -> bool:
        deadline = time.monotonic() + within
        while self.alive():
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.05)  # polling a process that is shutting down
        _CHILDREN.pop(self.pid, None)
        return True


def inherited_env() -> dict[str, str]:
    """The caller's environment without MiniLogin's settings: a cluster process gets those
    from its spec alone (an ML_REDIS_URL or MONGO_URL of the shell must not leak in)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("ML_") and k != "MONGO_URL"}


def _stat(pid: int) -> list[str]:
    """/proc/<pid>/stat from its third field (state) on; empty once the process is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return []
    return stat.rsplit(")", 1)[1].split()


def process_state(pid: int) -> str:
    """The process's state letter ('' once it is gone)."""
    fields = _stat(pid)
    return fields[0] if fields else ""


def _start_time(pid: int) -> int:
    fields = _stat(pid)
    return int(fields[19]) if fields else -1  # field 22 of proc(5): starttime


def alive(pid: int) -> bool:
    child = _CHILDREN.get(pid)
    if child is not None:
        return child.poll() is None
    return process_state(pid) not in ("", "Z", "X")


async def run(argv: list[str], env: dict[str, str] | None = None, within: float = 60) -> str:
    """A command line tool's output; ClusterError with its output when it fails."""
    proc = await asyncio.create_subprocess_exec(
        *argv,
        env={**os.environ, **(env or {})},
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        async with asyncio.timeout(within):
            out, _ = await proc.communicate()
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise ClusterError(f"{' '.join(argv)} took over {within:g} s") from None
    text = out.decode(errors="replace")
    if proc.returncode != 0:
        raise ClusterError(f"{' '.join(argv)} exited {proc.returncode}: {text[-2000:]}")
    return text


async def wait_port(port: int, what: Proc, within: float = 60) -> None:
    """Until 127.0.0.1:`port` accepts connections; ClusterError if `what` exits first."""
    deadline = time.monotonic() + within
    while True:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            if not what.alive():
                raise ClusterError(f"{what.name} exited: {what.tail()}") from None
            if time.monotonic() > deadline:
                raise ClusterError(f"{what.name} not listening on {port}: {what.tail()}") from None
            await asyncio.sleep(0.05)  # polling a port that is still opening
        else:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
            return
