"""WeChat refuses the phone-number code exchange a confirm needs: the login ends there with a
reason both screens can say. The phone is answered `failed` / `wechat_refused` (never an error
it would answer with a cancel), the waiting browser is told `failed` with
`wechat_refused:<errcode>` (its page says WeChat refused the login and answers the site
`access_denied`, tests/browser/test_wechat_refused_in_chromium.py), the attempt is audited,
and nobody is logged in. A refusal worth another try leaves the login where it was; a person's
own Cancel still reads "cancelled"."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from minilogin_testkit import PHONE_NUMBER_API, Stack, next_status, wait_for_status

from shared.settings import DEV_ADMIN_TOKEN
from shared.tickets import TicketStatus

ADMIN = {"Authorization": f"Bearer {DEV_ADMIN_TOKEN}"}


async def _records(stack: Stack, ticket: str) -> list[dict[str, Any]]:
    async with stack.http.get(
        stack.url("/admin/v1/audit"), params={"limit": 200}, headers=ADMIN
    ) as r:
        assert r.status == 200, await r.text()
        return [rec for rec in (await r.json())["records"] if rec["ticket_id"] == ticket]


async def _record_of(stack: Stack, ticket: str) -> dict[str, Any]:
    """The ticket's login record, written by a consumer of the event that ended it (after
    the phone has its answer): read until it is there, 5 s at most."""
    async with asyncio.timeout(5):
        while True:
            found = await _records(stack, ticket)
            if found:
                assert len(found) == 1, found
                return found[0]
            await asyncio.sleep(0.05)  # polling an event consumer's write, bounded above


@contextlib.asynccontextmanager
async def _scanned(
    stack: Stack,
) -> AsyncIterator[tuple[dict[str, Any], str, aiohttp.ClientWebSocketResponse, dict[str, Any]]]:
    """A login scanned by a sandbox user with a phone number, the browser told so; its socket
    open until the block ends. The user, the ticket id, the socket and the scan's answer."""
    user = next(u for u in await stack.users() if u["phone"])
    browser = stack.browser()
    ticket, _ = await browser.ticket()
    tid = ticket["ticket"]
    async with browser.socket(tid) as ws:
        status, scan = await stack.scan(tid, user["openid"])
        assert status == 200, scan
        await wait_for_status(ws, "scanned")
        yield user, tid, ws, scan


@pytest.mark.parametrize(
    "errcode",
    [
        40226,  # WeChat blocked the user for their account's safety
        48001,  # the mini program may not read phone numbers (API unauthorised)
        61999,  # an errcode we have no name for
    ],
)
async def test_a_refused_phone_number_ends_the_login_with_the_reason_on_both_screens(
    stack: Stack, errcode: int
) -> None:
    async with _scanned(stack) as (user, tid, ws, scan):
        await stack.wechat_fault(PHONE_NUMBER_API, errcode, count=1)

        status, answer = await stack.post(
            "/mp/v1/confirm",
            {
                "ticket": tid,
                "session": scan["session"],
                "phone_code": await stack.phone_code(user["openid"]),
            },
        )

        # The phone: its "WeChat refused the request" screen, at once.
        assert status == 200, answer
        assert answer == {
            "ticket": tid,
            "status": "failed",
            "outcome": "failed",
            "reason": "wechat_refused",
        }
        # The PC: failed with WeChat's refusal as the reason, never "cancelled".
        pc = await next_status(ws)
        assert (pc["status"], pc["reason"]) == ("failed", f"wechat_refused:{errcode}")
        assert "redirect_url" not in pc

    stored = await stack.tickets.get(tid)
    assert stored is not None
    assert (stored.status, stored.reason) == (TicketStatus.FAILED, f"wechat_refused:{errcode}")
    assert (stored.phone, stored.user_id) == ("", "")  # no number, nobody logged in
    # The phone asking again hears the same; its Cancel, late, changes nothing.
    body = {"ticket": tid, "session": scan["session"]}
    assert await stack.post("/mp/v1/status", body) == (200, answer)
    status, refused = await stack.post("/mp/v1/cancel", body)
    assert (status, refused["error"]["code"]) == (409, "illegal_transition")
    again = await stack.tickets.get(tid)
    assert again is not None
    assert again.status == TicketStatus.FAILED

    record = await _record_of(stack, tid)
    assert (record["outcome"], record["reason"]) == ("failed", f"wechat_refused:{errcode}")
    assert (record["openid"], record["user_id"]) == (user["openid"], None)


@pytest.mark.parametrize(
    ("errcode", "http", "code"),
    [
        (40029, 400, "wechat_invalid_code"),  # a stale phone code: the phone asks again
        (45011, 429, "wechat_rate_limited"),  # WeChat's quota: later
    ],
)
async def test_a_refusal_worth_another_try_leaves_the_login_to_the_phone(
    stack: Stack, errcode: int, http: int, code: str
) -> None:
    async with _scanned(stack) as (user, tid, ws, scan):
        await stack.wechat_fault(PHONE_NUMBER_API, errcode, count=1)
        body = {"ticket": tid, "session": scan["session"]}

        status, error = await stack.post(
            "/mp/v1/confirm", {**body, "phone_code": await stack.phone_code(user["openid"])}
        )
        assert (status, error["error"]["code"]) == (http, code)
        stored = await stack.tickets.get(tid)
        assert stored is not None
        assert stored.status == TicketStatus.SCANNED

        # Tried again with a fresh phone code, the login goes through.
        status, answer = await stack.post(
            "/mp/v1/confirm", {**body, "phone_code": await stack.phone_code(user["openid"])}
        )
        assert status == 200, answer
        assert answer["outcome"] == "succeeded"
        await wait_for_status(ws, "succeeded")


async def test_a_person_who_taps_cancel_is_still_told_cancelled(stack: Stack) -> None:
    async with _scanned(stack) as (_, tid, ws, scan):
        status, body = await stack.post(
            "/mp/v1/cancel", {"ticket": tid, "session": scan["session"]}
        )
        assert (status, body["status"]) == (200, "cancelled")
        pc = await wait_for_status(ws, "cancelled")
        assert "reason" not in pc
    record = await _record_of(stack, tid)
    assert (record["outcome"], record["reason"]) == ("cancelled", None)
