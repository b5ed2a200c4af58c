"""One trace id follows a ticket through every service's structured logs."""

from __future__ import annotations

from minilogin_testkit import Stack, wait_for_status
from structlog.contextvars import merge_contextvars
from structlog.testing import capture_logs


async def test_the_tickets_trace_id_is_in_every_services_logs(stack: Stack) -> None:
    user = (await stack.users())[0]
    browser = stack.browser()
    with capture_logs(processors=[merge_contextvars]) as logs:
        async with browser.session.post(
            stack.url("/api/v1/tickets"),
            json={
                "client_id": "demo",
                "redirect_uri": stack.redirect_uri,
                "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            },
            headers={"X-Trace-Id": "trace-from-the-edge"},
        ) as r:
            ticket = await r.json()
        async with browser.socket(ticket["ticket"]) as ws:
            _, scan = await stack.scan(ticket["ticket"], user["openid"])
            await stack.post(
                "/mp/v1/confirm", {"ticket": ticket["ticket"], "session": scan["session"]}
            )
            await wait_for_status(ws, "succeeded")

    traced = {e["event"] for e in logs if e.get("trace_id") == "trace-from-the-edge"}
    assert {"ticket_issued", "ticket_scanned", "ticket_confirmed", "login_resolved"} <= traced
    assert not [e for e in logs if "session_key" in e or user["phone"] in str(e)]
