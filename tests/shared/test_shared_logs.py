"""What a service's JSON log lines carry: its name, the keys bound for the work in hand
(the ticket's trace id) across awaits and only inside the block, and no secrets."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import sys
from collections.abc import Iterator
from typing import Any

import pytest
import structlog

from shared import logs


@pytest.fixture
def lines(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    sink = io.StringIO()
    monkeypatch.setattr(sys, "stderr", sink)  # where a service's log lines go
    # configure() also sets up the standard library's root logger: undone after the test.
    monkeypatch.setattr(logging.root, "handlers", list(logging.root.handlers))
    monkeypatch.setattr(logging.root, "level", logging.root.level)
    saved = structlog.get_config()
    logs.configure("scan-gateway")

    def read() -> list[dict[str, Any]]:
        return [json.loads(line) for line in sink.getvalue().splitlines()]

    try:
        yield read
    finally:
        structlog.configure(**saved)


async def test_bound_keys_follow_the_work_and_end_with_the_block(lines: Any) -> None:
    log = logs.get("test")

    async def confirm() -> None:
        await asyncio.sleep(0)
        log.info("ticket_confirmed", session_key="secret-value")

    with logs.bound(trace_id="t-outer", request_id="r1"):
        with logs.bound(trace_id="t-inner"):
            await asyncio.create_task(confirm())
        log.info("ticket_scanned", trace_id="explicit")
        log.info("after_inner")
    log.info("unbound")

    confirmed, scanned, after, unbound = lines()
    assert confirmed["service"] == "scan-gateway"
    assert confirmed["trace_id"] == "t-inner"
    assert confirmed["request_id"] == "r1"
    assert confirmed["session_key"] == "[redacted]"
    assert scanned["trace_id"] == "explicit"  # an explicit key wins over a bound one
    assert after["trace_id"] == "t-outer"
    assert "trace_id" not in unbound
    assert "request_id" not in unbound
    assert unbound["service"] == "scan-gateway"
