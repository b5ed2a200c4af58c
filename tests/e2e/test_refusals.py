"""Every refusal is a clear JSON error with a stable code, and changes no state."""

from __future__ import annotations

from typing import Any, cast

import aiohttp
import pytest
from minilogin_testkit import (
    Stack,
    code_from,
    fail_next_user_read,
    next_status,
    wait_for_status,
)

from shared.clock import FakeClock
from shared.keys import Keys
from shared.tickets import TicketStatus


async def _ticket_state(stack: Stack, ticket_id: str) -> dict[str, str]:
    key = Keys(stack.settings.qr_issuer.namespace).ticket(ticket_id)
    # The stack's client decodes responses, so the hash comes back as str.
    return cast("dict[str, str]", await stack.redis.hgetall(key))


async def _scanned(stack: Stack, openid: str) -> tuple[dict[str, Any], dict[str, Any], str]:
    ticket, verifier = await stack.browser().ticket()
    status, scan = await stack.scan(ticket["ticket"], openid)
    assert status == 200, scan
    return ticket, scan, verifier


def _error(body: dict[str, Any], code: str) -> None:
    assert body["error"]["code"] == code, body
    assert body["error"]["message"]
    assert body["error"]["request_id"]


async def test_second_scanner_is_refused_when_ticket_already_scanned(stack: Stack) -> None:
    alice, bob = (await stack.users())[:2]
    ticket, _, _ = await _scanned(stack, alice["openid"])
    before = await _ticket_state(stack, ticket["ticket"])

    status, body = await stack.scan(ticket["ticket"], bob["openid"])

    assert status == 409
    _error(body, "ticket_already_scanned")
    assert await _ticket_state(stack, ticket["ticket"]) == before
    assert before["scanner_openid"] == alice["openid"]


async def test_a_scan_the_same_person_sends_again_gets_a_session_not_a_refusal(
    stack: Stack,
) -> None:
    # The phone's first scan went through but its answer was lost (a gateway, a store
    # failover): the retry, by the same WeChat user, carries on the login.
    alice = (await stack.users())[0]
    browser = stack.browser()
    ticket, _ = await browser.ticket()
    async with browser.socket(ticket["ticket"]) as ws:
        status, first = await stack.scan(ticket["ticket"], alice["openid"])
        assert status == 200, first
        status, again = await stack.scan(ticket["ticket"], alice["openid"])
        assert status == 200, again
        assert again["session"] != first["session"]
        assert again["site"] == first["site"]
        assert (await _ticket_state(stack, ticket["ticket"]))["status"] == "scanned"
        status, body = await stack.post(
            "/mp/v1/confirm", {"ticket": ticket["ticket"], "session": again["session"]}
        )
        assert status == 200, body
        await wait_for_status(ws, "succeeded")


async def test_confirm_by_a_different_wechat_user_is_refused(stack: Stack) -> None:
    alice, bob = (await stack.users())[:2]
    ticket, _, _ = await _scanned(stack, alice["openid"])
    _, bobs_scan, _ = await _scanned(stack, bob["openid"])
    before = await _ticket_state(stack, ticket["ticket"])

    status, body = await stack.post(
        "/mp/v1/confirm", {"ticket": ticket["ticket"], "session": bobs_scan["session"]}
    )

    assert status == 403
    _error(body, "not_scanner")
    assert await _ticket_state(stack, ticket["ticket"]) == before


async def test_confirm_with_an_unknown_session_is_refused(stack: Stack) -> None:
    alice = (await stack.users())[0]
    ticket, _, _ = await _scanned(stack, alice["openid"])
    status, body = await stack.post(
        "/mp/v1/confirm", {"ticket": ticket["ticket"], "session": "forged-session-token"}
    )
    assert status == 401
    _error(body, "invalid_session")


async def test_confirm_after_cancel_is_refused_and_the_browser_hears_cancelled(
    stack: Stack,
) -> None:
    alice = (await stack.users())[0]
    browser = stack.browser()
    ticket, _ = await browser.ticket()
    async with browser.socket(ticket["ticket"]) as ws:
        assert (await next_status(ws))["status"] == "pending"
        _, scan = await stack.scan(ticket["ticket"], alice["openid"])
        status, body = await stack.post(
            "/mp/v1/cancel", {"ticket": ticket["ticket"], "session": scan["session"]}
        )
        assert (status, body["status"]) == (200, "cancelled")
        await wait_for_status(ws, "cancelled")
    before = await _ticket_state(stack, ticket["ticket"])

    status, body = await stack.post(
        "/mp/v1/confirm", {"ticket": ticket["ticket"], "session": scan["session"]}
    )

    assert status == 409
    _error(body, "ticket_cancelled")
    assert await _ticket_state(stack, ticket["ticket"]) == before


async def test_expiry_is_pushed_on_time_and_a_late_confirm_is_refused(
    fake_clock_stack: Stack,
) -> None:
    stack = fake_clock_stack
    assert isinstance(stack.clock, FakeClock)
    alice = (await stack.users())[0]
    browser = stack.browser()
    ticket, _ = await browser.ticket()
    async with browser.socket(ticket["ticket"]) as ws:
        assert (await next_status(ws))["status"] == "pending"
        _, scan = await stack.scan(ticket["ticket"], alice["openid"])
        assert (await next_status(ws))["status"] == "scanned"

        stack.clock.advance(ticket["expires_at"] - stack.clock.now() + 1)

        assert (await next_status(ws))["status"] == "expired"
    before = await _ticket_state(stack, ticket["ticket"])
    status, body = await stack.post(
        "/mp/v1/confirm", {"ticket": ticket["ticket"], "session": scan["session"]}
    )
    assert status == 410
    _error(body, "ticket_expired")
    assert await _ticket_state(stack, ticket["ticket"]) == before
    assert before["status"] == "expired"


async def test_scan_after_expiry_is_refused(fake_clock_stack: Stack) -> None:
    stack = fake_clock_stack
    assert isinstance(stack.clock, FakeClock)
    alice = (await stack.users())[0]
    ticket, _ = await stack.browser().ticket()
    stack.clock.advance(ticket["expires_at"] - stack.clock.now() + 1)
    status, body = await stack.scan(ticket["ticket"], alice["openid"])
    assert status == 410
    _error(body, "ticket_expired")


async def test_reused_wx_login_code_is_refused_and_the_ticket_stays_pending(stack: Stack) -> None:
    alice = (await stack.users())[0]
    code = await stack.login_code(alice["openid"])
    first, _ = await stack.browser().ticket()
    second, _ = await stack.browser().ticket()
    status, _ = await stack.post("/mp/v1/scan", {"ticket": first["ticket"], "code": code})
    assert status == 200

    status, body = await stack.post("/mp/v1/scan", {"ticket": second["ticket"], "code": code})

    assert status == 400
    _error(body, "wechat_invalid_code")
    assert (await _ticket_state(stack, second["ticket"]))["status"] == "pending"


async def _logged_in(stack: Stack) -> tuple[str, str]:
    alice = (await stack.users())[0]
    browser = stack.browser()
    ticket, verifier = await browser.ticket()
    async with browser.socket(ticket["ticket"]) as ws:
        _, scan = await stack.scan(ticket["ticket"], alice["openid"])
        await stack.post("/mp/v1/confirm", {"ticket": ticket["ticket"], "session": scan["session"]})
        done = await wait_for_status(ws, "succeeded")
    code, _ = code_from(done["redirect_url"])
    return code, verifier


async def test_reused_authorization_code_is_refused(stack: Stack) -> None:
    code, verifier = await _logged_in(stack)
    status, _ = await stack.exchange(code, verifier)
    assert status == 200

    status, body = await stack.exchange(code, verifier)

    assert status == 400
    assert body["error"] == "invalid_grant"
    assert "already used" in body["error_description"]


async def test_a_code_whose_exchange_a_store_failed_is_not_used_up(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # MongoDB times out after the code was taken, before any token was made: the site gets
    # 503 and retries, and the retry must not be refused as a stolen code's second use.
    code, verifier = await _logged_in(stack)
    fail_next_user_read(stack, monkeypatch)
    status, body = await stack.exchange(code, verifier)
    assert status == 503, body
    assert body["error"] == "temporarily_unavailable"

    status, body = await stack.exchange(code, verifier)
    assert status == 200, body
    claims = await stack.verify_id_token(body["id_token"])
    assert claims["sub"]
    status, body = await stack.exchange(code, verifier)
    assert status == 400  # used now, and only once
    assert "already used" in body["error_description"]


async def test_authorization_code_with_the_wrong_pkce_verifier_is_refused(stack: Stack) -> None:
    code, _ = await _logged_in(stack)
    status, body = await stack.exchange(code, "x" * 64)
    assert status == 400
    assert body["error"] == "invalid_grant"


async def test_token_request_with_the_wrong_client_secret_is_refused(stack: Stack) -> None:
    code, verifier = await _logged_in(stack)
    status, body = await stack.exchange(code, verifier, secret="wrong")
    assert status == 401
    assert body["error"] == "invalid_client"
    status, _ = await stack.exchange(code, verifier)
    assert status == 200  # the failed attempt did not burn the code


async def test_authorization_code_for_another_redirect_uri_is_refused(stack: Stack) -> None:
    code, verifier = await _logged_in(stack)
    status, body = await stack.exchange(code, verifier, redirect_uri=stack.redirect_uri + "/other")
    assert status == 400
    assert body["error"] == "invalid_grant"


async def test_ticket_for_an_unregistered_redirect_uri_is_refused(stack: Stack) -> None:
    pattern = Keys(stack.settings.qr_issuer.namespace).ticket("*")
    before = [k async for k in stack.redis.scan_iter(match=pattern)]
    status, body, _ = await stack.browser().create_ticket(redirect_uri=stack.redirect_uri + "x")
    assert status == 400
    _error(body, "redirect_uri_mismatch")
    assert [k async for k in stack.redis.scan_iter(match=pattern)] == before


async def test_ticket_for_an_unknown_client_is_refused(stack: Stack) -> None:
    status, body, _ = await stack.browser().create_ticket(client_id="nobody")
    assert status == 400
    _error(body, "unknown_client")


async def test_websocket_without_the_binding_cookie_is_refused(stack: Stack) -> None:
    ticket, _ = await stack.browser().ticket()
    url = stack.notifiers[0] + f"/ws/tickets/{ticket['ticket']}"
    async with stack.http.get(
        url,
        headers={
            "Connection": "Upgrade",
            "Upgrade": "websocket",
            "Sec-WebSocket-Version": "13",
            "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        },
    ) as r:
        assert r.status == 401
        _error(await r.json(), "unauthorized")


async def test_websocket_with_another_browsers_cookie_is_refused(stack: Stack) -> None:
    ticket, _ = await stack.browser().ticket()
    other = stack.browser()
    await other.ticket()  # gets its own binding cookie
    with pytest.raises(aiohttp.WSServerHandshakeError) as err:
        async with other.socket(ticket["ticket"]):
            pass
    assert err.value.status == 403


async def test_polling_with_another_browsers_cookie_is_refused(stack: Stack) -> None:
    owner = stack.browser()
    ticket, _ = await owner.ticket()
    other = stack.browser()
    await other.ticket()
    async with other.session.get(stack.url(ticket["status_url"])) as r:
        assert r.status == 403
        _error(await r.json(), "forbidden")
    async with owner.session.get(stack.url(ticket["status_url"])) as r:
        assert r.status == 200
        assert (await r.json())["status"] == "pending"


@pytest.mark.parametrize(
    "path", ["/api/v1/tickets", "/mp/v1/scan", "/mp/v1/confirm", "/mp/v1/cancel"]
)
async def test_malformed_json_is_refused_with_a_clear_error(stack: Stack, path: str) -> None:
    async with stack.http.post(
        stack.url(path), data=b'{"ticket": ', headers={"Content-Type": "application/json"}
    ) as r:
        assert r.status == 400
        body = await r.json()
    _error(body, "malformed_json")


@pytest.mark.parametrize(
    "path", ["/api/v1/tickets", "/mp/v1/scan", "/mp/v1/confirm", "/mp/v1/cancel"]
)
async def test_unknown_fields_are_refused_with_a_clear_error(stack: Stack, path: str) -> None:
    status, body = await stack.post(
        path,
        {"ticket": "A" * 22, "session": "s", "code": "c", "client_id": "demo", "surprise": True},
    )
    assert status == 400
    _error(body, "invalid_request")
    assert any(d["field"] == "surprise" for d in body["error"]["details"])


async def test_unknown_route_gets_a_json_404(stack: Stack) -> None:
    async with stack.http.get(stack.url("/api/v1/nothing-here")) as r:
        assert r.status == 404
        _error(await r.json(), "not_found")


async def test_a_confirmed_login_that_never_finishes_is_reported_failed_to_the_browser(
    fake_clock_stack: Stack,
) -> None:
    stack = fake_clock_stack
    assert isinstance(stack.clock, FakeClock)
    alice = (await stack.users())[0]
    browser = stack.browser()
    ticket, _ = await browser.ticket()
    async with browser.socket(ticket["ticket"]) as ws:
        assert (await next_status(ws))["status"] == "pending"
        await stack.scan(ticket["ticket"], alice["openid"])
        assert (await next_status(ws))["status"] == "scanned"
        # Confirmed in the store only: as if the account service never got the event.
        await stack.tickets.transition(
            ticket["ticket"], TicketStatus.CONFIRMED, scanner=alice["openid"]
        )
        stack.clock.advance(ticket["expires_at"] - stack.clock.now() + 1)
        stack.clock.advance(16)  # past the grace a finishing login gets

        done = await wait_for_status(ws, "failed")

    assert done["reason"] == "login_not_completed"
