"""Cross-device phishing: the phone is told where the PC asking to log in is and how near it is
to the phone, from the operator's GeoIP database; a connection's far-away policy may ask for a
second confirmation or refuse. Both addresses come through the trusted proxy's
X-Forwarded-For, as behind the bundled nginx."""

from __future__ import annotations

from typing import Any

import pytest
from geoip_testkit import BEIJING, BEIJING_OTHER_NETWORK, BEIJING_SAME_NETWORK, SHANGHAI, TOKYO
from minilogin_testkit import Browser, Stack, wait_for_status

from scan_gateway.context import GATEWAY
from shared.settings import DEV_ADMIN_TOKEN
from shared.tickets import TicketStatus

ADMIN = {"Authorization": f"Bearer {DEV_ADMIN_TOKEN}"}
# What the client itself wrote in the header: with one trusted hop, only the address the
# proxy appended counts.
FORGED = "1.1.1.1"


def forwarded(ip: str) -> dict[str, str]:
    return {"X-Forwarded-For": f"{FORGED}, {ip}"}


def browser_at(stack: Stack, ip: str) -> Browser:
    return stack.browser(forwarded(ip))


async def scan_from(stack: Stack, ip: str, ticket: str, openid: str) -> tuple[int, Any]:
    body = {"ticket": ticket, "code": await stack.login_code(openid), "launch_scene": 1011}
    return await stack.post("/mp/v1/scan", body, headers=forwarded(ip))


async def confirm_from(stack: Stack, ip: str, ticket: str, session: str, **extra: Any) -> Any:
    body = {"ticket": ticket, "session": session, **extra}
    return await stack.post("/mp/v1/confirm", body, headers=forwarded(ip))


async def connection(stack: Stack, cid: str, far_away: str) -> dict[str, Any]:
    body = {"id": cid, "display_name": f"Site {cid}", "apps": ["demo"], "far_away": far_away}
    async with stack.http.post(stack.url("/admin/v1/connections"), json=body, headers=ADMIN) as r:
        assert r.status == 201, await r.text()
        created: dict[str, Any] = await r.json()
        return created


async def openid(stack: Stack) -> str:
    user: str = (await stack.users())[0]["openid"]
    return user


@pytest.mark.parametrize(
    ("phone_ip", "level"),
    [
        (BEIJING, "same_address"),
        (BEIJING_SAME_NETWORK, "same_network"),
        (BEIJING_OTHER_NETWORK, "same_city"),
    ],
)
async def test_a_phone_near_the_pc_is_shown_where_it_is_without_a_warning(
    geo_stack: Stack, phone_ip: str, level: str
) -> None:
    ticket, _ = await browser_at(geo_stack, BEIJING).ticket()
    status, scan = await scan_from(geo_stack, phone_ip, ticket["ticket"], await openid(geo_stack))
    assert status == 200, scan
    request = scan["request"]
    assert (request["ip"], request["place"]) == (BEIJING, "Beijing, China")
    assert request["location"]["kind"] == "located"
    assert request["location"]["zh"] == {
        "text": "中国 北京市",
        "country": "中国",
        "region": "北京市",
        "city": "北京",
    }
    assert scan["proximity"]["level"] == level
    assert scan["proximity"]["far"] is False
    assert scan["proximity"]["phone_location"]["en"]["text"] == "Beijing, China"
    assert scan["risk"] == {"warning": False, "reason": None}


@pytest.mark.parametrize(
    ("pc_ip", "level", "en", "zh"),
    [
        (TOKYO, "different_country", "Tokyo, Japan", "日本 东京都"),
        (SHANGHAI, "same_country", "Shanghai, China", "中国 上海市"),
    ],
)
async def test_a_pc_far_from_the_phone_is_a_warning_and_by_default_may_still_log_in(
    geo_stack: Stack, pc_ip: str, level: str, en: str, zh: str
) -> None:
    browser = browser_at(geo_stack, pc_ip)
    ticket, _ = await browser.ticket()
    async with browser.socket(ticket["ticket"]) as ws:
        status, scan = await scan_from(
            geo_stack, BEIJING, ticket["ticket"], await openid(geo_stack)
        )
        assert status == 200, scan
        assert scan["request"]["ip"] == pc_ip
        assert (
            scan["request"]["location"]["en"]["text"],
            scan["request"]["location"]["zh"]["text"],
        ) == (en, zh)
        assert scan["proximity"]["level"] == level
        assert scan["proximity"]["far"] is True
        # A mini program that knows only `risk` warns too.
        assert scan["risk"] == {"warning": True, "reason": "far_away"}
        status, body = await confirm_from(geo_stack, BEIJING, ticket["ticket"], scan["session"])
        assert status == 200, body
        await wait_for_status(ws, "succeeded")


async def test_confirm_twice_needs_an_explicit_acknowledgement_when_the_pc_is_far(
    geo_stack: Stack,
) -> None:
    await connection(geo_stack, "twice", "confirm_twice")
    browser = browser_at(geo_stack, TOKYO)
    status, ticket, _ = await browser.create_ticket(connection="twice")
    assert status == 201, ticket
    async with browser.socket(ticket["ticket"]) as ws:
        _, scan = await scan_from(geo_stack, BEIJING, ticket["ticket"], await openid(geo_stack))
        assert scan["proximity"]["far"] is True
        status, body = await confirm_from(geo_stack, BEIJING, ticket["ticket"], scan["session"])
        assert status == 409, body
        assert body["error"]["code"] == "far_away_confirmation_required"
        assert (await geo_stack.tickets.require(ticket["ticket"])).status == TicketStatus.SCANNED

        status, body = await confirm_from(
            geo_stack, BEIJING, ticket["ticket"], scan["session"], far_away_acknowledged=True
        )
        assert status == 200, body
        await wait_for_status(ws, "succeeded")


async def test_confirm_twice_asks_nothing_more_when_the_pc_is_near(geo_stack: Stack) -> None:
    await connection(geo_stack, "twice-near", "confirm_twice")
    browser = browser_at(geo_stack, BEIJING)
    status, ticket, _ = await browser.create_ticket(connection="twice-near")
    assert status == 201, ticket
    async with browser.socket(ticket["ticket"]) as ws:
        _, scan = await scan_from(
            geo_stack, BEIJING_OTHER_NETWORK, ticket["ticket"], await openid(geo_stack)
        )
        status, body = await confirm_from(
            geo_stack, BEIJING_OTHER_NETWORK, ticket["ticket"], scan["session"]
        )
        assert status == 200, body
        await wait_for_status(ws, "succeeded")


async def test_refuse_ends_a_far_away_login_at_the_scan_and_the_pc_is_told(
    geo_stack: Stack,
) -> None:
    await connection(geo_stack, "strict", "refuse")
    browser = browser_at(geo_stack, TOKYO)
    status, ticket, _ = await browser.create_ticket(connection="strict")
    assert status == 201, ticket
    async with browser.socket(ticket["ticket"]) as ws:
        status, body = await scan_from(
            geo_stack, BEIJING, ticket["ticket"], await openid(geo_stack)
        )
        assert status == 403, body
        error = body["error"]
        assert error["code"] == "far_away_refused"
        assert error["details"]["proximity"] == "different_country"
        assert error["details"]["location"]["zh"]["text"] == "日本 东京都"
        assert error["details"]["phone_location"]["en"]["text"] == "Beijing, China"
        await wait_for_status(ws, "cancelled")
    assert (await geo_stack.tickets.require(ticket["ticket"])).reason == "far_away_refused"
    # Nobody can pick the login up afterwards.
    status, body = await scan_from(geo_stack, TOKYO, ticket["ticket"], await openid(geo_stack))
    assert (status, body["error"]["code"]) == (409, "ticket_cancelled")


async def test_refuse_lets_a_phone_near_the_pc_log_in(geo_stack: Stack) -> None:
    await connection(geo_stack, "strict-near", "refuse")
    browser = browser_at(geo_stack, BEIJING)
    status, ticket, _ = await browser.create_ticket(connection="strict-near")
    assert status == 201, ticket
    async with browser.socket(ticket["ticket"]) as ws:
        status, scan = await scan_from(
            geo_stack, BEIJING_SAME_NETWORK, ticket["ticket"], await openid(geo_stack)
        )
        assert status == 200, scan
        status, body = await confirm_from(
            geo_stack, BEIJING_SAME_NETWORK, ticket["ticket"], scan["session"]
        )
        assert status == 200, body
        await wait_for_status(ws, "succeeded")


async def test_a_policy_tightened_after_the_scan_refuses_the_confirm(geo_stack: Stack) -> None:
    await connection(geo_stack, "tightened", "allow")
    browser = browser_at(geo_stack, TOKYO)
    status, ticket, _ = await browser.create_ticket(connection="tightened")
    assert status == 201, ticket
    async with browser.socket(ticket["ticket"]) as ws:
        status, scan = await scan_from(
            geo_stack, BEIJING, ticket["ticket"], await openid(geo_stack)
        )
        assert status == 200, scan
        async with geo_stack.http.patch(
            geo_stack.url("/admin/v1/connections/tightened"),
            json={"far_away": "refuse"},
            headers=ADMIN,
        ) as r:
            assert r.status == 200
            assert (await r.json())["far_away"] == "refuse"
        geo_stack.apps["scan-gateway"][GATEWAY].registry.forget()  # its cache's 5 s, now
        status, body = await confirm_from(geo_stack, BEIJING, ticket["ticket"], scan["session"])
        assert status == 403, body
        assert body["error"]["code"] == "far_away_refused"
        await wait_for_status(ws, "cancelled")


@pytest.mark.parametrize("value", ["deny", "", None, 1])
async def test_the_far_away_policy_is_one_of_three(stack: Stack, value: Any) -> None:
    body = {"id": "bad-policy", "display_name": "X", "far_away": value}
    async with stack.http.post(stack.url("/admin/v1/connections"), json=body, headers=ADMIN) as r:
        assert r.status == 400
        error = (await r.json())["error"]
        assert error["code"] == "invalid_request"
        assert "far_away" in error["message"]


async def test_a_new_connection_allows_far_away_logins(stack: Stack) -> None:
    created = await connection(stack, "defaults", "allow")
    assert created["far_away"] == "allow"
    body = {"id": "untold", "display_name": "Untold"}
    async with stack.http.post(stack.url("/admin/v1/connections"), json=body, headers=ADMIN) as r:
        assert (await r.json())["far_away"] == "allow"


async def test_without_a_geoip_database_the_phone_is_told_what_the_addresses_say(
    stack: Stack,
) -> None:
    ticket, _ = await stack.browser().ticket()
    status, scan = await stack.scan(ticket["ticket"], await openid(stack), launch_scene=1011)
    assert status == 200, scan
    assert scan["request"]["place"] == "This machine (loopback)"
    assert scan["request"]["location"]["zh"]["text"] == "本机（回环地址）"
    assert scan["proximity"]["level"] == "same_address"
    assert scan["risk"]["warning"] is False
