"""How the chaos suite's people retry and what they are counted as having seen: a 503 is
tried again after its Retry-After, a refusal with a code is a clear failure, a gateway page
is not."""

from __future__ import annotations

import json

import pytest

from bench.http1 import Response
from bench.loadgen import LoginFailed
from chaos.fates import Fate
from chaos.user import GaveUp, failure, with_retries


def refused(status: int, code: str | None, retry_after: str | None = None) -> LoginFailed:
    body = json.dumps({"error": {"code": code, "message": "m"}}).encode() if code else b"<html>"
    headers = {"retry-after": retry_after} if retry_after is not None else {}
    return LoginFailed(f"POST /mp/v1/confirm: HTTP {status}", Response(status, headers, body))


async def test_a_503_is_tried_again_after_its_retry_after_until_it_succeeds() -> None:
    answers = [refused(503, "temporarily_unavailable", "0"), refused(502, None)]

    async def step() -> str:
        if answers:
            raise answers.pop(0)
        return "confirmed"

    assert await with_retries(step, patience=30) == "confirmed"
    assert answers == []


async def test_a_refusal_that_says_nothing_about_retrying_is_not_tried_again() -> None:
    calls = 0

    async def step() -> None:
        nonlocal calls
        calls += 1
        raise refused(409, "ticket_already_scanned")

    with pytest.raises(GaveUp) as info:
        await with_retries(step, patience=30)
    assert calls == 1
    assert failure(info.value) == (
        Fate.FAILED_CLEAR,
        "POST /mp/v1/confirm: ticket_already_scanned",
        False,
    )


async def test_the_person_gives_up_when_the_retry_after_outlasts_their_patience() -> None:
    async def step() -> None:
        raise refused(503, "temporarily_unavailable", "60")

    with pytest.raises(GaveUp) as info:
        await with_retries(step, patience=5)
    fate, error, retryable = failure(info.value)
    assert (fate, error, retryable) == (
        Fate.FAILED_CLEAR,
        "POST /mp/v1/confirm: temporarily_unavailable",
        True,
    )


def test_a_gateway_page_is_a_failure_without_a_clear_error() -> None:
    fate, error, retryable = failure(GaveUp(refused(502, None)))
    assert fate is Fate.FAILED_UNCLEAR
    assert "HTTP 502" in error
    assert not retryable
