"""`make bench-quick`: the benchmark harness in its few-second mode against the real
topology (services as processes over RabbitMQ, Redis and SecantusDB). It checks that the
flow completes both ways, not how fast: timings on a shared test machine mean nothing."""

from __future__ import annotations

import pytest

from bench.report import render
from bench.run import QUICK, run

pytestmark = [pytest.mark.real, pytest.mark.timeout(240)]


async def test_quick_bench_completes_pushed_and_polled_logins_without_errors() -> None:
    result = await run(QUICK)

    for name in ("latency-push", "latency-poll", "peak-push", "peak-poll"):
        phase = result.phase(name).result
        assert phase["errors"] == {}, name
        assert phase["completed"] == phase["offered"] > 0, name
        assert len(phase["succeeded_ms"]) == phase["completed"], name
    assert result.phase("latency-push").result["mode"] == "push"
    assert "GET /api/v1/tickets/{id} (poll)" in result.phase("latency-poll").result["api_ms"]
    tickets = result.phase("tickets").result
    assert tickets["errors"] == {}
    assert tickets["completed"] == tickets["offered"] > 0
    idle = result.phase("idle").result
    assert idle["failed"] == {}
    assert idle["held"] == idle["still_open_after_hold"] == QUICK.idle
    assert all(seconds >= 0 for seconds in result.phase("peak-push").cpu.values())
    assert "## Against the targets" in render(result, "make bench-quick", "")
