"""The audit trail as an operator reads it: one record per login attempt, for a success and for
each kind of refusal, with who, where and how but no secrets; filters and pages; retention by
a TTL index; a deleted user's records no longer say who they were."""

from __future__ import annotations

import asyncio
import functools
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from geoip_testkit import BEIJING, TOKYO
from minilogin_testkit import Stack, code_from, start_stack, wait_for_status

from account.audit import TTL_INDEX, AuditLog
from account.consumers import on_ticket_confirmed
from account.context import ACCOUNT
from devstack.seed import DEMO_CLIENT_ID, DEMO_CONNECTION
from shared.clock import FakeClock, SystemClock
from shared.events import Event, TicketConfirmed, new_event
from shared.settings import DEV_ADMIN_TOKEN
from shared.tickets import TicketStatus

SPEC = Path(__file__).parents[2] / "docs" / "openapi.yaml"
ADMIN = {"Authorization": f"Bearer {DEV_ADMIN_TOKEN}"}
CAMERA = 1011  # WeChat's launch scene for the camera pointed at a QR code


async def admin(stack: Stack, method: str, path: str, body: Any = None, **params: Any) -> Any:
    async with stack.http.request(
        method, stack.url(path), json=body, params=params or None, headers=ADMIN
    ) as r:
        return r.status, (await r.json() if r.content_type == "application/json" else None)


async def audit(stack: Stack, **params: Any) -> list[dict[str, Any]]:
    status, body = await admin(stack, "GET", "/admin/v1/audit", **params)
    assert status == 200, body
    conforms(body)
    return body["records"]  # type: ignore[no-any-return]


@functools.cache
def answer_schema() -> jsonschema.Draft202012Validator:
    spec = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    op = spec["paths"]["/admin/v1/audit"]["get"]
    schema = op["responses"]["200"]["content"]["application/json"]["schema"]
    return jsonschema.Draft202012Validator({**schema, "components": spec["components"]})


def conforms(body: Any) -> None:
    """The answer is what docs/openapi.yaml says GET /admin/v1/audit answers."""
    answer_schema().validate(body)


async def record_of(stack: Stack, ticket: str) -> dict[str, Any]:
    """The ticket's login record. Cancellations are recorded by a consumer of their event,
    after the phone has its answer: read until it is there (5 s at most)."""
    async with asyncio.timeout(5):
        while True:
            found = [r for r in await audit(stack, limit=200) if r["ticket_id"] == ticket]
            if found:
                assert len(found) == 1, found
                return found[0]
            await asyncio.sleep(0.05)  # polling an event consumer's write, bounded above


async def connection(stack: Stack, cid: str, **fields: Any) -> None:
    body = {"id": cid, "display_name": f"Site {cid}", "apps": ["demo"], **fields}
    status, created = await admin(stack, "POST", "/admin/v1/connections", body)
    assert status == 201, created


async def login(
    stack: Stack, openid: str, *, connection: str = DEMO_CONNECTION, phone: bool = False
) -> tuple[str, dict[str, Any]]:
    """A login to its end as the browser sees it: (ticket id, final status message)."""
    browser = stack.browser()
    status, ticket, _ = await browser.create_ticket(connection=connection)
    assert status == 201, ticket
    async with browser.socket(ticket["ticket"]) as ws:
        status, scan = await stack.scan(ticket["ticket"], openid, launch_scene=CAMERA)
        assert status == 200, scan
        body: dict[str, Any] = {"ticket": ticket["ticket"], "session": scan["session"]}
        if phone:
            body["phone_code"] = await stack.phone_code(openid)
        status, confirmed = await stack.post("/mp/v1/confirm", body)
        assert status == 200, confirmed
        while True:
            msg = await ws.receive_json(timeout=5)
            if msg["status"] not in ("pending", "scanned", "confirmed"):
                return ticket["ticket"], msg


async def with_phone(stack: Stack) -> dict[str, Any]:
    return next(u for u in await stack.users() if u["phone"])


async def test_a_login_is_recorded_with_who_where_and_how_but_no_secrets(stack: Stack) -> None:
    alice = await with_phone(stack)
    ticket, done = await login(stack, alice["openid"], phone=True)
    assert done["status"] == "succeeded", done
    code, _ = code_from(done["redirect_url"])

    rec = await record_of(stack, ticket)

    assert rec["kind"] == "login"
    assert rec["outcome"] == "succeeded"
    assert (rec["connection_id"], rec["client_id"]) == (DEMO_CONNECTION, DEMO_CLIENT_ID)
    assert rec["openid"] == alice["openid"]
    assert rec["user_id"].startswith("u_")
    assert rec["new_account"] is True
    assert rec["launch_scene"] == CAMERA
    assert rec["pc_ip"] == "127.0.0.1"
    assert rec["browser"]
    assert rec["trace_id"]
    # The phone is masked, in E.164 as the ID token has it: +86138****1111.
    number = alice["phone"]
    assert rec["phone"] == f"+{alice['country_code']}{number[:-8]}****{number[-4:]}"
    assert alice["phone"] not in json.dumps(rec)
    assert code not in json.dumps(rec)
    seconds = datetime.fromisoformat(rec["at"]).timestamp() - stack.clock.now()
    assert -30 < seconds <= 1

    # The second login of the same person is another record, of an account not new.
    ticket2, done2 = await login(stack, alice["openid"])
    assert done2["status"] == "succeeded"
    again = await record_of(stack, ticket2)
    assert (again["user_id"], again["new_account"]) == (rec["user_id"], False)
    assert again["phone"] is None


async def test_a_login_only_refusal_is_recorded_with_its_reason(stack: Stack) -> None:
    await connection(stack, "members-only", login_mode="login_only")
    stranger = (await stack.users())[1]
    ticket, done = await login(stack, stranger["openid"], connection="members-only")
    assert done["status"] == "failed"

    rec = await record_of(stack, ticket)

    assert (rec["outcome"], rec["reason"]) == ("failed", "account_not_found")
    assert (rec["connection_id"], rec["user_id"]) == ("members-only", None)
    assert rec["openid"] == stranger["openid"]


async def test_binding_required_is_recorded(stack: Stack) -> None:
    await connection(stack, "ask-me", association="ask_binding")
    someone = (await stack.users())[2]
    ticket, done = await login(stack, someone["openid"], connection="ask-me")
    assert done["status"] == "binding_required"

    rec = await record_of(stack, ticket)

    assert (rec["outcome"], rec["reason"]) == ("binding_required", "no_account_bound")
    assert rec["connection_id"] == "ask-me"


async def test_a_disabled_users_refusal_is_recorded(stack: Stack) -> None:
    alice = (await stack.users())[0]
    first, _ = await login(stack, alice["openid"])
    user_id = (await record_of(stack, first))["user_id"]
    status, body = await admin(stack, "POST", f"/admin/v1/users/{user_id}/disable")
    assert status == 200, body

    ticket, done = await login(stack, alice["openid"])

    assert done["status"] == "failed"
    rec = await record_of(stack, ticket)
    assert (rec["outcome"], rec["reason"], rec["user_id"]) == ("failed", "user_disabled", user_id)
    assert await audit(stack, user_id=user_id, outcome="failed") == [rec]


async def test_a_scan_cancelled_on_the_phone_is_recorded(stack: Stack) -> None:
    alice = (await stack.users())[0]
    browser = stack.browser()
    ticket, _ = await browser.ticket()
    async with browser.socket(ticket["ticket"]) as ws:
        status, scan = await stack.scan(ticket["ticket"], alice["openid"])
        assert status == 200, scan
        status, body = await stack.post(
            "/mp/v1/cancel", {"ticket": ticket["ticket"], "session": scan["session"]}
        )
        assert status == 200, body
        await wait_for_status(ws, "cancelled")

    rec = await record_of(stack, ticket["ticket"])

    assert rec["outcome"] == "cancelled"
    assert rec["openid"] == alice["openid"]
    assert rec["launch_scene"] is None  # this phone did not say how it was opened


async def test_an_expired_scan_is_recorded_and_a_ticket_nobody_scanned_is_not(
    fake_clock_stack: Stack,
) -> None:
    stack = fake_clock_stack
    alice = (await stack.users())[0]
    idle, busy = stack.browser(), stack.browser()
    unscanned, _ = await idle.ticket()
    scanned, _ = await busy.ticket()
    assert isinstance(stack.clock, FakeClock)
    async with idle.socket(unscanned["ticket"]) as ws1, busy.socket(scanned["ticket"]) as ws2:
        status, scan = await stack.scan(scanned["ticket"], alice["openid"], launch_scene=1047)
        assert status == 200, scan
        stack.clock.advance(600)
        await wait_for_status(ws1, "expired")
        await wait_for_status(ws2, "expired")

    rec = await record_of(stack, scanned["ticket"])

    assert (rec["outcome"], rec["openid"], rec["launch_scene"]) == (
        "expired",
        alice["openid"],
        1047,
    )
    # The unscanned ticket expired first and its event went through the same queue: a
    # record for it would be there by now. Nobody tried to log in with it.
    assert [r["ticket_id"] for r in await audit(stack)] == [scanned["ticket"]]


async def test_erasure_keeps_the_records_but_not_who_they_were(stack: Stack) -> None:
    alice = await with_phone(stack)
    bob = next(u for u in await stack.users() if u["openid"] != alice["openid"])
    # Refused before she had an account: a record with her openid and no user.
    await connection(stack, "members-only", login_mode="login_only")
    t0, _ = await login(stack, alice["openid"], connection="members-only")
    assert (await record_of(stack, t0))["user_id"] is None
    t1, _ = await login(stack, alice["openid"], phone=True)
    t2, _ = await login(stack, alice["openid"])
    tb, _ = await login(stack, bob["openid"])
    user_id = (await record_of(stack, t1))["user_id"]
    await record_of(stack, t2)
    bobs = await record_of(stack, tb)

    status, _ = await admin(stack, "DELETE", f"/admin/v1/users/{user_id}")
    assert status == 204

    assert await audit(stack, user_id=user_id) == []
    erased = {r["ticket_id"]: r for r in await audit(stack) if r["ticket_id"] in (t0, t1, t2)}
    assert len(erased) == 3
    # What happened, where, stays.
    assert erased[t0]["outcome"] == "failed"
    assert erased[t0]["connection_id"] == "members-only"
    assert erased[t1]["outcome"] == erased[t2]["outcome"] == "succeeded"
    for rec in erased.values():
        for field in ("user_id", "openid", "phone", "pc_ip", "pc_user_agent", "browser"):
            assert rec[field] is None, field
        assert rec["erased_at"]
        assert alice["openid"] not in json.dumps(rec)
    assert await record_of(stack, tb) == bobs  # nobody else's


async def _seed(stack: Stack) -> list[dict[str, Any]]:
    """Records written straight to the trail, one a minute, of two connections and three
    outcomes (the trail's reading is what is tested here, not its writing)."""
    log = AuditLog(stack.db, SystemClock(), 180)
    start = datetime(2026, 11, 1, tzinfo=UTC).timestamp()
    outcomes = ["succeeded", "failed", "binding_required"]
    for i in range(9):
        await log.record(
            outcome=outcomes[i % 3],
            reason="" if i % 3 == 0 else "why",
            connection_id="demo" if i < 6 else "other",
            client_id="demo",
            user_id=f"u_{i % 2}",
            openid=f"o{i}",
            at=start + 60 * i,
        )
    return await audit(stack, since="2026-11-01T00:00:00Z", until="2026-11-02T00:00:00Z")


async def test_records_are_filtered_and_read_a_page_at_a_time(stack: Stack) -> None:
    every = await _seed(stack)
    assert len(every) == 9
    times = [r["at"] for r in every]
    assert times == sorted(times, reverse=True)  # newest first

    pages, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        status, body = await admin(stack, "GET", "/admin/v1/audit", **params)
        assert status == 200, body
        pages.append(body["records"])
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert [len(p) for p in pages] == [2, 2, 2, 2, 1]
    assert [r for p in pages for r in p] == every

    assert {r["openid"] for r in await audit(stack, connection_id="other")} == {"o6", "o7", "o8"}
    assert {r["openid"] for r in await audit(stack, outcome="failed")} == {"o1", "o4", "o7"}
    assert {r["openid"] for r in await audit(stack, user_id="u_1", connection_id="demo")} == {
        "o1",
        "o3",
        "o5",
    }
    # since is inclusive, until exclusive; a time without an offset is UTC.
    window = await audit(stack, since="2026-11-01T00:02:00", until="2026-11-01T00:04:00Z")
    assert [r["openid"] for r in window] == ["o3", "o2"]
    # A filtered page's cursor continues the same filter.
    status, body = await admin(stack, "GET", "/admin/v1/audit", outcome="succeeded", limit=1)
    status, rest = await admin(
        stack, "GET", "/admin/v1/audit", outcome="succeeded", cursor=body["next_cursor"]
    )
    assert [r["openid"] for r in body["records"] + rest["records"]] == ["o6", "o3", "o0"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"outcome": "maybe"}, "outcome"),
        ({"since": "yesterday"}, "since"),
        ({"limit": "0"}, "limit"),
        ({"limit": "201"}, "limit"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"cursor": "WzEsMl0"}, "cursor"),  # [1,2]: JSON, but not a cursor
        ({"colour": "blue"}, "colour"),
    ],
)
async def test_bad_filters_are_a_clear_400(
    stack: Stack, params: dict[str, str], field: str
) -> None:
    status, body = await admin(stack, "GET", "/admin/v1/audit", **params)
    assert status == 400, body
    assert body["error"]["code"] == "invalid_request"
    assert body["error"]["details"][0]["field"] == field


async def test_the_trail_needs_the_admin_token(stack: Stack) -> None:
    async with stack.http.get(stack.url("/admin/v1/audit")) as r:
        assert r.status == 401
        assert (await r.json())["error"]["code"] == "unauthorized"


async def test_records_expire_after_the_configured_retention(
    mongo_url: str, namespace: str
) -> None:
    async with start_stack(
        "embedded", mongo_url, namespace, SystemClock(), audit_retention_days=7
    ) as stack:
        indexes = await stack.db.audit.index_information()
        assert indexes[TTL_INDEX]["expireAfterSeconds"] == 7 * 24 * 3600
        assert indexes[TTL_INDEX]["key"] == [("at", 1)]
        # A new period replaces the old one when the service starts with it, also when two
        # replicas start with it at once.
        await asyncio.gather(
            *(AuditLog(stack.db, SystemClock(), 30).ensure_indexes() for _ in range(2))
        )
        indexes = await stack.db.audit.index_information()
        assert indexes[TTL_INDEX]["expireAfterSeconds"] == 30 * 24 * 3600


async def test_the_trail_is_kept_180_days_unless_configured(stack: Stack) -> None:
    indexes = await stack.db.audit.index_information()
    assert indexes[TTL_INDEX]["expireAfterSeconds"] == 180 * 24 * 3600


async def _confirmed_event(stack: Stack, openid: str) -> Event:
    """A scanned ticket confirmed in the store alone, and the ticket.confirmed event the test
    then delivers itself (no other copy of it exists)."""
    ticket, _ = await stack.browser().ticket()
    status, _ = await stack.scan(ticket["ticket"], openid, launch_scene=CAMERA)
    assert status == 200
    await stack.tickets.transition(ticket["ticket"], TicketStatus.CONFIRMED, scanner=openid)
    payload = TicketConfirmed(
        connection_id=DEMO_CONNECTION, client_id=DEMO_CLIENT_ID, openid=openid
    )
    return new_event(ticket["ticket"], "trace-audit", payload)


async def test_an_event_delivered_twice_is_recorded_once(stack: Stack) -> None:
    alice = (await stack.users())[0]
    acct = stack.apps["account"][ACCOUNT]
    event = await _confirmed_event(stack, alice["openid"])

    await asyncio.gather(on_ticket_confirmed(acct, event), on_ticket_confirmed(acct, event))
    await on_ticket_confirmed(acct, event)

    assert [r["ticket_id"] for r in await audit(stack)] == [event.ticket_id]


async def test_a_record_the_first_delivery_could_not_write_is_written_by_the_next(
    stack: Stack,
) -> None:
    alice = (await stack.users())[0]
    acct = stack.apps["account"][ACCOUNT]
    event = await _confirmed_event(stack, alice["openid"])
    await on_ticket_confirmed(acct, event)
    first = await record_of(stack, event.ticket_id)
    await stack.db.audit.delete_many({})  # as if the write had failed after the move

    await on_ticket_confirmed(acct, event)  # the broker delivers it again

    again = await record_of(stack, event.ticket_id)
    assert again["outcome"] == "succeeded"
    assert (again["user_id"], again["openid"], again["launch_scene"]) == (
        first["user_id"],
        alice["openid"],
        CAMERA,
    )


async def test_a_far_away_refusal_is_recorded_with_where_the_pc_was(geo_stack: Stack) -> None:
    stack = geo_stack
    await connection(stack, "strict", far_away="refuse")
    alice = (await stack.users())[0]
    browser = stack.browser({"X-Forwarded-For": TOKYO})
    status, ticket, _ = await browser.create_ticket(connection="strict")
    assert status == 201, ticket
    body = {
        "ticket": ticket["ticket"],
        "code": await stack.login_code(alice["openid"]),
        "launch_scene": CAMERA,
    }
    status, refused = await stack.post("/mp/v1/scan", body, headers={"X-Forwarded-For": BEIJING})
    assert (status, refused["error"]["code"]) == (403, "far_away_refused")

    rec = await record_of(stack, ticket["ticket"])

    assert (rec["outcome"], rec["reason"]) == ("cancelled", "far_away_refused")
    assert (rec["pc_ip"], rec["openid"], rec["connection_id"]) == (
        TOKYO,
        alice["openid"],
        "strict",
    )
