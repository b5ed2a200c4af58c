"""The notifier's tests run on both socket paths (ML_NOTIFIER_SOCKETS): the lean takeover
and aiohttp's own WebSocketResponse, which a browser must not be able to tell apart."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from minilogin_testkit import Stack, start_stack

from shared.clock import SystemClock


@pytest.fixture(params=["lean", "aiohttp"])
def sockets(request: pytest.FixtureRequest) -> str:
    kind: str = request.param
    return kind


@pytest.fixture
async def stack(
    stack_kind: str, mongo_url: str, namespace: str, sockets: str
) -> AsyncIterator[Stack]:
    async with start_stack(
        stack_kind, mongo_url, namespace, SystemClock(), notifier_sockets=sockets
    ) as s:
        yield s


@pytest.fixture
async def real_stack(mongo_url: str, namespace: str, sockets: str) -> AsyncIterator[Stack]:
    async with start_stack(
        "real", mongo_url, namespace, SystemClock(), notifier_sockets=sockets
    ) as s:
        yield s
