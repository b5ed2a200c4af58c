"""Before anyone confirms, the waiting PC sees whose account a scan would log it in to: a
returning user's name and picture as the account service knows them, never what the phone
claims, and only in the browser that created the ticket."""

from __future__ import annotations

import base64
import io
from typing import Any

import aiohttp
import pytest
from minilogin_testkit import Stack, next_status, wait_for_status
from PIL import Image

from account.consumers import on_ticket_scanned
from account.context import ACCOUNT
from shared.events import TicketScanned, new_event

GREEN = (7, 193, 96)


def _avatar() -> str:
    """A picture as /mp/v1/avatar hands them out: a 96 x 96 PNG data URL."""
    out = io.BytesIO()
    Image.new("RGB", (96, 96), GREEN).save(out, format="PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


async def _first_login(stack: Stack, openid: str, **profile: str) -> None:
    """A whole login whose phone gives `profile` with its confirm: the new account keeps it."""
    browser = stack.browser()
    ticket, _ = await browser.ticket()
    async with browser.socket(ticket["ticket"]) as ws:
        status, scan = await stack.scan(ticket["ticket"], openid)
        assert status == 200, scan
        status, body = await stack.post(
            "/mp/v1/confirm", {"ticket": ticket["ticket"], "session": scan["session"], **profile}
        )
        assert status == 200, body
        await wait_for_status(ws, "succeeded")


async def _until_account(ws: aiohttp.ClientWebSocketResponse) -> dict[str, Any]:
    """Status messages until one names the account; the ticket must not leave `scanned`."""
    while True:
        msg = await next_status(ws)
        assert msg["status"] in ("pending", "scanned"), msg
        if "account" in msg:
            return msg


async def _scanned_event_delivered(stack: Stack, ticket_id: str, openid: str) -> None:
    """Hand the account service the ticket's ticket.scanned (again) and wait for it to be
    handled: whatever it would show is on the ticket once this returns."""
    ticket = await stack.tickets.require(ticket_id)
    event = new_event(
        ticket_id, ticket.trace_id, TicketScanned(connection_id=ticket.connection_id, openid=openid)
    )
    await on_ticket_scanned(stack.apps["account"][ACCOUNT], event)


async def _poll(browser_session: aiohttp.ClientSession, stack: Stack, ticket_id: str) -> Any:
    async with browser_session.get(stack.url(f"/api/v1/tickets/{ticket_id}")) as r:
        return r.status, await r.json()


async def test_a_returning_users_second_login_shows_their_name_on_the_pcs_scanned_status(
    stack: Stack,
) -> None:
    user = (await stack.users())[0]
    await _first_login(stack, user["openid"], nickname=user["nickname"], avatar_url=_avatar())

    pc = stack.browser()
    ticket, _ = await pc.ticket()
    async with pc.socket(ticket["ticket"]) as ws:
        # The phone may call itself anything: the PC is told the account's own name.
        status, scan = await stack.scan(ticket["ticket"], user["openid"], nickname="Not Me")
        assert status == 200, scan
        msg = await _until_account(ws)
        assert msg["status"] == "scanned"
        assert msg["account"]["nickname"] == user["nickname"]
        avatar = msg["account"]["avatar_url"]
        assert avatar.startswith("data:image/png;base64,")
        picture = Image.open(io.BytesIO(base64.b64decode(avatar.split(",", 1)[1])))
        assert (picture.size, picture.getpixel((48, 48))) == ((96, 96), GREEN)

        # Polling tells the same, to that browser only.
        assert await _poll(pc.session, stack, ticket["ticket"]) == (200, msg)
        other = stack.browser()
        await other.ticket()  # a binding cookie of its own, for another ticket
        status, body = await _poll(other.session, stack, ticket["ticket"])
        assert (status, body["error"]["code"]) == (403, "forbidden")
        assert "account" not in body

        await stack.post("/mp/v1/confirm", {"ticket": ticket["ticket"], "session": scan["session"]})
        later = [await next_status(ws)]
        while later[-1]["status"] != "succeeded":
            later.append(await next_status(ws))
    # Still shown once confirmed (if the browser sees that step), gone with the result.
    assert [m["account"] for m in later if m["status"] == "confirmed"] in ([], [msg["account"]])
    assert "account" not in later[-1]


async def test_a_first_time_users_scanned_status_names_no_account(stack: Stack) -> None:
    user = (await stack.users())[1]
    pc = stack.browser()
    ticket, _ = await pc.ticket()
    async with pc.socket(ticket["ticket"]) as ws:
        status, scan = await stack.scan(ticket["ticket"], user["openid"], nickname=user["nickname"])
        assert status == 200, scan
        seen = [await wait_for_status(ws, "scanned")]
        await _scanned_event_delivered(stack, ticket["ticket"], user["openid"])
        status, polled = await _poll(pc.session, stack, ticket["ticket"])
        assert (status, polled["status"], polled["version"]) == (200, "scanned", seen[0]["version"])

        await stack.post("/mp/v1/confirm", {"ticket": ticket["ticket"], "session": scan["session"]})
        while seen[-1]["status"] != "succeeded":
            seen.append(await next_status(ws))
    assert [m for m in [*seen, polled] if "account" in m] == []


@pytest.mark.parametrize("stack_kind", ["embedded"])
async def test_a_stored_profile_is_shown_only_within_the_rules(stack: Stack) -> None:
    user = (await stack.users())[2]
    pc = stack.browser()
    ticket, _ = await pc.ticket()
    connection_id = (await stack.tickets.require(ticket["ticket"])).connection_id
    # An account from before the rules, or edited in the database by hand.
    await stack.db.identities.insert_one(
        {"connection_id": connection_id, "openid": user["openid"], "user_id": "u_old"}
    )
    await stack.db.users.insert_one(
        {
            "_id": "u_old",
            "nickname": "\u202egnp.exe\u202c Li",
            "avatar_url": "https://tracker.example/p",
        }
    )
    async with pc.socket(ticket["ticket"]) as ws:
        await stack.scan(ticket["ticket"], user["openid"])
        msg = await _until_account(ws)
    assert msg["account"] == {"nickname": "gnp.exe Li", "avatar_url": None}


@pytest.mark.parametrize("stack_kind", ["embedded"])
async def test_the_scanned_event_again_or_too_late_changes_nothing(stack: Stack) -> None:
    user = (await stack.users())[3]
    await _first_login(stack, user["openid"], nickname=user["nickname"])

    pc = stack.browser()
    ticket, _ = await pc.ticket()
    async with pc.socket(ticket["ticket"]) as ws:
        _, scan = await stack.scan(ticket["ticket"], user["openid"])
        shown = await _until_account(ws)
        await _scanned_event_delivered(stack, ticket["ticket"], user["openid"])
        assert (await stack.tickets.require(ticket["ticket"])).version == shown["version"]

        await stack.post("/mp/v1/confirm", {"ticket": ticket["ticket"], "session": scan["session"]})
        await wait_for_status(ws, "succeeded")
    done = await stack.tickets.require(ticket["ticket"])
    await _scanned_event_delivered(stack, ticket["ticket"], user["openid"])
    assert await stack.tickets.require(ticket["ticket"]) == done
