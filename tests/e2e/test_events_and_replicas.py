"""Consumers are idempotent, and any notifier replica serves any browser."""

from __future__ import annotations

import asyncio

import pytest
from minilogin_testkit import Stack, next_status, wait_for_status

from account.consumers import on_ticket_confirmed
from account.context import ACCOUNT
from shared.clock import FakeClock
from shared.events import Event, TicketConfirmed, new_event
from shared.tickets import TicketStatus


async def _confirmed(stack: Stack, openid: str, trace_id: str) -> Event:
    """A ticket scanned and confirmed by `openid`, and its ticket.confirmed event, which
    the test delivers itself (the confirm happens in the store only, so no other copy of
    the event exists)."""
    ticket, _ = await stack.browser().ticket()
    status, _ = await stack.scan(ticket["ticket"], openid)
    assert status == 200
    await stack.tickets.transition(ticket["ticket"], TicketStatus.CONFIRMED, scanner=openid)
    return new_event(
        ticket["ticket"],
        trace_id,
        TicketConfirmed(connection_id="wechat-demo", client_id="demo", openid=openid),
    )


async def test_confirmed_event_delivered_twice_changes_nothing_twice(stack: Stack) -> None:
    user = (await stack.users())[3]  # Bob: no account yet in this namespace
    acct = stack.apps["account"][ACCOUNT]
    event = await _confirmed(stack, user["openid"], "trace-dup")
    ticket_id = event.ticket_id

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
    event = await _confirmed(stack, user["openid"], "trace-race")
    ticket_id = event.ticket_id

    await asyncio.gather(on_ticket_confirmed(acct, event), on_ticket_confirmed(acct, event))

    assert (await stack.tickets.require(ticket_id)).status == TicketStatus.SUCCEEDED
    assert await stack.db.identities.count_documents({"openid": user["openid"]}) == 1
    assert await stack.db.users.count_documents({}) == 1


async def test_returning_user_gets_the_same_account(stack: Stack) -> None:
    user = (await stack.users())[0]
    subs = []
    for _ in range(2):
        login = await stack.log_in(user["openid"])
        subs.append((await stack.tickets.require(login.ticket)).user_id)
        assert login.done["redirect_url"]
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
        await on_ticket_confirmed(acct, await _confirmed(stack, user["openid"], "trace-again"))
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


async def test_a_redelivered_confirmed_event_tells_the_browser_the_outcome_it_missed(
    stack: Stack,
) -> None:
    """The login ended but nobody was told (as when a handler stopped between writing the
    outcome and publishing it, before the outbox): ticket.confirmed delivered again announces
    the outcome, and the waiting browser gets it without waiting for the ticket to expire."""
    user = (await stack.users())[0]
    acct = stack.apps["account"][ACCOUNT]
    browser = stack.browser()
    ticket, _ = await browser.ticket()
    ticket_id = ticket["ticket"]
    async with browser.socket(ticket_id) as ws:
        assert (await next_status(ws))["status"] == "pending"
        await stack.scan(ticket_id, user["openid"])
        await wait_for_status(ws, "scanned")
        # Confirmed and finished in the store only: no event for either move.
        await stack.tickets.transition(ticket_id, TicketStatus.CONFIRMED, scanner=user["openid"])
        redirect = "https://rp.example/callback?code=c"
        await stack.tickets.transition(
            ticket_id, TicketStatus.SUCCEEDED, changes={"redirect_url": redirect}
        )
        again = new_event(
            ticket_id,
            "trace-again",
            TicketConfirmed(connection_id="wechat-demo", client_id="demo", openid=user["openid"]),
        )
        await on_ticket_confirmed(acct, again)

        done = await wait_for_status(ws, "succeeded")

    assert done["redirect_url"] == redirect
