"""Guessing the admin token: each client IP may send a few wrong tokens a minute, then gets
429 with when to retry; a right token is never counted against it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from minilogin_testkit import Stack, start_stack

from shared.clock import FakeClock
from shared.settings import DEV_ADMIN_TOKEN

LIMIT = 10  # wrong tokens per IP and minute, the default
GUESSER = "203.0.113.7"
OPERATOR = "198.51.100.20"


@pytest.fixture
async def proxied(stack_kind: str, mongo_url: str, namespace: str) -> AsyncIterator[Stack]:
    """A stack behind one proxy (the client IP comes from X-Forwarded-For), on time the
    test moves by hand."""
    async with start_stack(
        stack_kind, mongo_url, namespace, FakeClock(), trusted_proxy_hops=1
    ) as s:
        yield s


async def connections(stack: Stack, ip: str, token: str) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token}", "X-Forwarded-For": ip}
    async with stack.http.get(stack.url("/admin/v1/connections"), headers=headers) as r:
        return r.status, await r.json()


async def test_wrong_admin_tokens_are_limited_per_client_ip(proxied: Stack) -> None:
    for _ in range(LIMIT):
        assert (await connections(proxied, GUESSER, "guess"))[0] == 403
    status, body = await connections(proxied, GUESSER, "guess")
    assert status == 429
    assert body["error"]["code"] == "rate_limited"
    assert 1 <= body["error"]["details"]["retry_after"] <= 61
    # Past the limit even the right token waits: a guess that happens to be right must not
    # be told so.
    assert (await connections(proxied, GUESSER, DEV_ADMIN_TOKEN))[0] == 429
    # Another client is not held up by the guesser.
    assert (await connections(proxied, OPERATOR, DEV_ADMIN_TOKEN))[0] == 200
    assert (await connections(proxied, OPERATOR, "typo"))[0] == 403

    assert isinstance(proxied.clock, FakeClock)
    proxied.clock.advance(61)
    assert (await connections(proxied, GUESSER, "guess"))[0] == 403
    assert (await connections(proxied, GUESSER, DEV_ADMIN_TOKEN))[0] == 200


async def test_right_admin_tokens_never_count_toward_the_limit(proxied: Stack) -> None:
    for _ in range(3 * LIMIT):
        assert (await connections(proxied, OPERATOR, DEV_ADMIN_TOKEN))[0] == 200
    for _ in range(LIMIT):
        assert (await connections(proxied, OPERATOR, "typo"))[0] == 403
    assert (await connections(proxied, OPERATOR, "typo"))[0] == 429


async def test_without_a_proxy_the_forwarded_address_is_not_believed(stack: Stack) -> None:
    # No trusted proxy: a guesser cannot dodge the limit with a new X-Forwarded-For each time.
    for i in range(LIMIT):
        assert (await connections(stack, f"192.0.2.{i}", "guess"))[0] == 403
    assert (await connections(stack, "192.0.2.200", "guess"))[0] == 429
