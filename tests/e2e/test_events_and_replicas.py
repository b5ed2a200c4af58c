"""Consumers are idempotent, and any notifier replica serves any browser."""

from __future__ import annotations

import asyncio

import pytest
from minilogin_testkit import Stack, next_status, wait_for_status

from account.consumers import on_ticket_confirmed
from account.context import ACCOUNT
from shared.clock import FakeClock
from shared.events import TicketConfirmed, new_event
from shared.tickets import TicketStatus


async def _confirmed_ticket(stack: Stack, openid: str) -> str:
    ticket, _ = await stack.browser().ticket()
    status, _ = await stack.scan(ticket["ticket"], openid)
    assert status == 200
    # Confirm in the store only, so the test owns the one ticket.confirmed event.
    await stack.tickets.transition(ticket["ticket"], TicketStatus.CONFIRMED, scanner=openid)
    return str(ticket["ticket"])


async def test_confirmed_event_delivered_twice_changes_nothing_twice(stack: Stack) -> None:
    user = (await stack.users())[3]  # Bob: no account yet in this namespace
    acct = stack.apps["account"][ACCOUNT]
    ticket_id = await _confirmed_ticket(stack, user["openid"])
    event = new_event(
        ticket_id,
        "trace-dup",
        TicketConfirmed(connection_id="wechat-demo", client_id="demo", openid=user["openid"]),
    )

    await on_ticket_confirmed(acct, event)
    after_first = await stack.tickets.require(ticket_id)
    await on_ticket_confirmed(acct, event)
    after_second = await stack.tickets.require(ticket_id)

    assert after_first.status == TicketStatus.SUCCEEDED
    assert after_second == after_first  # same code, same version
    assert await stack.db.identities.count_documents({"openid": user["openid"]}) == 1
    assert await stack.db.users.count_documents({}) == 1


async def test_concurrent_duplicate_deliveries_create_one_account(stack: Stack) -> None:
    user = (await stack.users())[2]
    acct = stack.apps["account"][ACCOUNT]
    ticket_id = await _confirmed_ticket(stack, user["openid"])
    event = new_event(
        ticket_id,
        "trace-race",
        TicketConfirmed(connection_id="wechat-demo", client_id="demo", openid=user["openid"]),
    )

    await asyncio.gather(on_ticket_confirmed(acct, event), on_ticket_confirmed(acct, event))

    assert (await stack.tickets.require(ticket_id)).status == TicketStatus.SUCCEEDED
    assert await stack.db.identities.count_documents({"openid": user["openid"]}) == 1
    assert await stack.db.users.count_documents({}) == 1


async def test_returning_user_gets_the_same_account(stack: Stack) -> None:
    user = (await stack.users())[0]
    subs = []
    for _ in range(2):
        browser = stack.browser()
        ticket, _ = await browser.ticket()
        async with browser.socket(ticket["ticket"]) as ws:
            _, scan = await stack.scan(ticket["ticket"], user["openid"])
            await stack.post(
                "/mp/v1/confirm", {"ticket": ticket["ticket"], "session": scan["session"]}
            )
            done = await wait_for_status(ws, "succeeded")
        subs.append((await stack.tickets.require(ticket["ticket"])).user_id)
        assert done["redirect_url"]
    assert subs[0] == subs[1]
    assert await stack.db.users.count_documents({}) == 1


async def test_a_returning_login_records_its_time_without_creating_anything(
    fake_clock_stack: Stack,
) -> None:
    stack = fake_clock_stack
    clock = stack.clock
    assert isinstance(clock, FakeClock)
    user = (await stack.users())[0]
    acct = stack.apps["account"][ACCOUNT]
    logins = []
    for _ in range(2):
        ticket_id = await _confirmed_ticket(stack, user["openid"])
        event = new_event(
            ticket_id,
            "trace-again",
            TicketConfirmed(connection_id="wechat-demo", client_id="demo", openid=user["openid"]),
        )
        await on_ticket_confirmed(acct, event)
        logins.append(clock.now())
        clock.advance(30)
    await acct.users.flush()  # what the write-behind task does each second

    identity = await stack.db.identities.find_one({"openid": user["openid"]})
    assert identity is not None
    assert identity["created_at"] == logins[0]
    assert identity["last_login_at"] == logins[1]
    assert await stack.db.identities.count_documents({}) == 1
    assert await stack.db.users.count_documents({}) == 1


@pytest.mark.real
async def test_a_browser_on_another_notifier_replica_hears_every_change(
    real_stack: Stack,
) -> None:
    stack = real_stack
    user = (await stack.users())[0]
    browser = stack.browser()
    ticket, _ = await browser.ticket()
    async with (
        browser.socket(ticket["ticket"], replica=0) as ws_a,
        browser.socket(ticket["ticket"], replica=1) as ws_b,
    ):
        assert (await next_status(ws_a))["status"] == "pending"
        assert (await next_status(ws_b))["status"] == "pending"
        _, scan = await stack.scan(ticket["ticket"], user["openid"])
        assert (await next_status(ws_a))["status"] == "scanned"
        assert (await next_status(ws_b))["status"] == "scanned"
        await stack.post("/mp/v1/confirm", {"ticket": ticket["ticket"], "session": scan["session"]})
        a = await wait_for_status(ws_a, "succeeded")
        b = await wait_for_status(ws_b, "succeeded")
    assert a["redirect_url"] == b["redirect_url"]
