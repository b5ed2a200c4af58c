"""The mini program's own logic, under Node against the stack's scan-gateway, shows how the
login it confirmed ended: a login-only refusal is its own screen (zh and en), never
"Confirmed"; binding needed says to continue on the computer; a success says logged in."""

from __future__ import annotations

import pytest
from minilogin_testkit import Stack, wait_for_status
from test_miniprogram_e2e import _assert_refused_on_the_phone, _run_login

pytestmark = pytest.mark.node


async def _connection(stack: Stack, cid: str, **fields: str) -> None:
    await stack.add_connection(id=cid, display_name="Members Club", apps=["demo"], **fields)


@pytest.mark.parametrize(
    ("language", "title"), [("en", "No account to log in to"), ("zh", "没有可登录的账号")]
)
async def test_a_login_only_refusal_is_shown_on_the_phone(
    stack: Stack, language: str, title: str
) -> None:
    await _connection(stack, "members-only", login_mode="login_only")
    newcomer = (await stack.users())[3]
    browser = stack.browser()
    status, ticket, _ = await browser.create_ticket(connection="members-only")
    assert status == 201
    async with browser.socket(ticket["ticket"]) as ws:
        code, result = await _run_login(
            stack, ticket["qr"]["content"], newcomer["openid"], ML_LANGUAGE=language
        )
        pc = await wait_for_status(ws, "failed")

    _assert_refused_on_the_phone(code, result, "login_only", title)
    assert pc["reason"] == "account_not_found"


async def test_binding_needed_tells_the_phone_to_continue_on_the_computer(stack: Stack) -> None:
    await _connection(stack, "ask-me", association="ask_binding")
    browser = stack.browser()
    status, ticket, _ = await browser.create_ticket(connection="ask-me")
    assert status == 201
    code, result = await _run_login(
        stack, ticket["qr"]["content"], (await stack.users())[2]["openid"]
    )
    assert code == 0, result  # not a refusal: the login goes on on the computer
    assert result["outcome"] == "binding_required"
    assert "computer" in result["message"]["text"]


async def test_a_successful_login_says_logged_in_on_the_phone(stack: Stack) -> None:
    ticket, _ = await stack.browser().ticket()
    code, result = await _run_login(
        stack, ticket["qr"]["content"], (await stack.users())[1]["openid"]
    )
    assert code == 0, result
    assert result["outcome"] == "succeeded"
