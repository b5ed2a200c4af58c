"""How many WebSockets a replica holds per ticket and per client address: past either
limit a handshake is refused before the upgrade with 429 and Retry-After, and a socket that
closes, or a handshake that was refused, frees its place. On both socket paths."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from typing import Any

import aiohttp
import pytest
from minilogin_testkit import Browser, Stack, next_status, start_stack
from refusals import refused, socket_url

from notifier.context import NOTIFIER
from notifier.slots import Slot
from shared.clock import SystemClock

PER_TICKET = 2
PER_IP = 3


@pytest.fixture
async def limited(
    stack_kind: str, mongo_url: str, namespace: str, sockets: str
) -> AsyncIterator[Stack]:
    """A stack with small limits, behind one proxy that appends X-Forwarded-For."""
    async with start_stack(
        stack_kind,
        mongo_url,
        namespace,
        SystemClock(),
        notifier_sockets=sockets,
        notifier_sockets_per_ticket=PER_TICKET,
        notifier_sockets_per_ip=PER_IP,
        trusted_proxy_hops=1,
    ) as s:
        yield s


async def _open(
    browser: Browser, url: str, headers: dict[str, str] | None = None
) -> aiohttp.ClientWebSocketResponse:
    ws = await browser.session.ws_connect(url, headers=headers)
    assert (await next_status(ws))["status"] == "pending"
    return ws


def _too_many(status: int, body: dict[str, Any], headers: Mapping[str, str]) -> None:
    assert (status, body["error"]["code"]) == (429, "too_many_sockets")
    assert headers["Retry-After"] == str(body["error"]["details"]["retry_after"])


async def test_a_ticket_takes_a_few_sockets_and_a_closed_one_frees_its_place(
    limited: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    browser = limited.browser()
    ticket, _ = await browser.ticket()
    url = socket_url(limited, ticket["ticket"])
    socks = [await _open(browser, url) for _ in range(PER_TICKET)]
    _too_many(*await refused(browser, url))

    slots = limited.apps["notifier"][NOTIFIER].slots
    freed = asyncio.Event()
    give_back = slots.give_back

    def give_back_and_tell(slot: Slot) -> None:
        give_back(slot)
        freed.set()

    monkeypatch.setattr(slots, "give_back", give_back_and_tell)
    await socks[0].close()
    await asyncio.wait_for(freed.wait(), 5)
    socks[0] = await _open(browser, url)
    _too_many(*await refused(browser, url))
    for ws in socks:
        await ws.close()


async def test_one_address_behind_the_proxy_takes_a_bounded_number_of_sockets(
    limited: Stack,
) -> None:
    browser = limited.browser()
    first = {"X-Forwarded-For": "198.51.100.7"}
    # Refused handshakes hold no place: a page of another origin, an unknown ticket.
    ticket, _ = await browser.ticket()
    for _ in range(PER_IP + 1):
        status, _, _ = await refused(
            browser, socket_url(limited, ticket["ticket"]), {**first, "Origin": "https://x.test"}
        )
        assert status == 403
        status, _, _ = await refused(browser, socket_url(limited, "A" * 22), first)
        assert status == 404

    socks = []
    for _ in range(PER_IP):
        ticket, _ = await browser.ticket()  # its cookie replaces the last ticket's
        socks.append(await _open(browser, socket_url(limited, ticket["ticket"]), first))
    ticket, _ = await browser.ticket()
    url = socket_url(limited, ticket["ticket"])
    _too_many(*await refused(browser, url, first))

    # The proxy's own address is shared by everyone: another client behind it still gets in.
    socks.append(await _open(browser, url, {"X-Forwarded-For": "198.51.100.8"}))
    for ws in socks:
        await ws.close()
