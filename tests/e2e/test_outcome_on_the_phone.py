"""After confirming, the phone is told how the login ended (the confirm answer waits briefly
for the account service's decision, /mp/v1/status tells a phone that was answered `pending`),
in the phone's vocabulary: it never reads "confirmed" for a refused login, and the PC is told
the same outcome."""

from __future__ import annotations

from typing import Any

from minilogin_testkit import Stack

from shared.settings import DEV_ADMIN_TOKEN
from shared.tickets import TicketStatus

ADMIN = {"Authorization": f"Bearer {DEV_ADMIN_TOKEN}"}


async def _connection(stack: Stack, cid: str, **fields: Any) -> None:
    status, body = await stack.post(
        "/admin/v1/connections",
        {"id": cid, "display_name": f"Site {cid}", "apps": ["demo"], **fields},
        headers=ADMIN,
    )
    assert status == 201, body


async def _scan_and_confirm(
    stack: Stack, openid: str, connection: str | None = None
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """The confirm's answer, the PC's final status message, and the scan's answer."""
    browser = stack.browser()
    status, ticket, _ = await browser.create_ticket(connection=connection)
    assert status == 201, ticket
    scan, confirmed, msg = await browser.scan_and_confirm(ticket["ticket"], openid)
    return confirmed, msg, scan


async def test_a_login_only_refusal_is_told_to_the_phone_and_the_pc(stack: Stack) -> None:
    await _connection(stack, "members-only", login_mode="login_only")
    newcomer = (await stack.users())[3]

    confirmed, pc, scan = await _scan_and_confirm(stack, newcomer["openid"], "members-only")

    assert confirmed["outcome"] == "failed"
    assert confirmed["reason"] == "login_only"
    assert confirmed["status"] == "failed"  # never "confirmed" for a refused login
    assert (pc["status"], pc["reason"]) == ("failed", "account_not_found")
    # Asked again, the phone hears the same.
    status, again = await stack.post(
        "/mp/v1/status", {"ticket": pc["ticket"], "session": scan["session"]}
    )
    assert status == 200
    assert again == {
        "ticket": pc["ticket"],
        "status": "failed",
        "outcome": "failed",
        "reason": "login_only",
    }


async def test_a_successful_login_is_told_to_the_phone(stack: Stack) -> None:
    alice = (await stack.users())[0]
    confirmed, pc, _ = await _scan_and_confirm(stack, alice["openid"])
    assert pc["status"] == "succeeded"
    assert (confirmed["status"], confirmed["outcome"]) == ("succeeded", "succeeded")
    assert "reason" not in confirmed


async def test_binding_needed_is_told_to_the_phone(stack: Stack) -> None:
    await _connection(stack, "ask-me", association="ask_binding")
    confirmed, pc, _ = await _scan_and_confirm(stack, (await stack.users())[2]["openid"], "ask-me")
    assert pc["status"] == "binding_required"
    assert confirmed["outcome"] == "binding_required"


async def test_a_slow_decision_is_pending_then_read_through_status(stack: Stack) -> None:
    # The account service never hears of this confirm: the move is made in the store only.
    alice = (await stack.users())[0]
    ticket, _ = await stack.browser().ticket()
    status, scan = await stack.scan(ticket["ticket"], alice["openid"])
    assert status == 200
    await stack.tickets.transition(
        ticket["ticket"], TicketStatus.CONFIRMED, scanner=alice["openid"]
    )
    body = {"ticket": ticket["ticket"], "session": scan["session"]}
    status, pending = await stack.post("/mp/v1/status", body)
    assert status == 200
    assert (pending["status"], pending["outcome"]) == ("confirmed", "pending")

    await stack.tickets.transition(
        ticket["ticket"], TicketStatus.FAILED, changes={"reason": "user_disabled"}
    )
    status, final = await stack.post("/mp/v1/status", body)
    assert (final["outcome"], final["reason"]) == ("failed", "user_disabled")


async def test_status_answers_only_the_phone_that_scanned(stack: Stack) -> None:
    alice, bob = (await stack.users())[:2]
    first, _ = await stack.browser().ticket()
    second, _ = await stack.browser().ticket()
    _, alices = await stack.scan(first["ticket"], alice["openid"])
    _, bobs = await stack.scan(second["ticket"], bob["openid"])

    status, body = await stack.post(
        "/mp/v1/status", {"ticket": first["ticket"], "session": bobs["session"]}
    )
    assert status == 403
    assert body["error"]["code"] == "not_scanner"
    status, body = await stack.post(
        "/mp/v1/status", {"ticket": first["ticket"], "session": "forged"}
    )
    assert status == 401
    assert body["error"]["code"] == "invalid_session"
    status, body = await stack.post("/mp/v1/status", {"ticket": "x"})
    assert status == 400
    assert set(body["error"]) >= {"code", "message"}
    # A scanned, unconfirmed ticket has no outcome yet.
    status, body = await stack.post(
        "/mp/v1/status", {"ticket": first["ticket"], "session": alices["session"]}
    )
    assert status == 200
    assert body == {"ticket": first["ticket"], "status": "scanned"}
