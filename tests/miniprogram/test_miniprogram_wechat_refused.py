"""The mini program's own logic, under Node against the stack's scan-gateway: when WeChat
refuses the phone-number code its confirm hands over, the phone ends on its "WeChat refused
the request" screen (zh and en), not on an error it would answer with a cancel, and the PC is
told the login failed for that reason, not that it was cancelled."""

from __future__ import annotations

import pytest
from minilogin_testkit import PHONE_NUMBER_API, Stack, wait_for_status
from test_miniprogram_e2e import _assert_refused_on_the_phone, _run_login

pytestmark = pytest.mark.node


@pytest.mark.parametrize(
    ("language", "title"), [("en", "WeChat refused the request"), ("zh", "微信拒绝了请求")]
)
async def test_wechat_refusing_the_phone_number_is_shown_on_the_phone(
    stack: Stack, language: str, title: str
) -> None:
    await stack.add_connection(
        id="with-phone", display_name="Phone Shop", apps=["demo"], request_phone=True
    )
    user = next(u for u in await stack.users() if u["phone"])
    await stack.wechat_fault(PHONE_NUMBER_API, 40226, count=1)
    browser = stack.browser()
    status, ticket, _ = await browser.create_ticket(connection="with-phone")
    assert status == 201, ticket
    async with browser.socket(ticket["ticket"]) as ws:
        code, result = await _run_login(
            stack,
            ticket["qr"]["content"],
            user["openid"],
            ML_LANGUAGE=language,
            ML_PHONE_CODE=await stack.phone_code(user["openid"]),
        )
        pc = await wait_for_status(ws, "failed")

    _assert_refused_on_the_phone(code, result, "wechat_refused", title)
    assert pc["reason"] == "wechat_refused:40226"
