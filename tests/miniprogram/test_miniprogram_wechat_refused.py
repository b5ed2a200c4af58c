"""The mini program's own logic, under Node against the stack's scan-gateway: when WeChat
refuses the phone-number code its confirm hands over, the phone ends on its "WeChat refused
the request" screen (zh and en), not on an error it would answer with a cancel, and the PC is
told the login failed for that reason, not that it was cancelled."""

from __future__ import annotations

import pytest
from minilogin_testkit import Stack, wait_for_status
from test_miniprogram_e2e import _run_login

from shared.settings import DEV_ADMIN_TOKEN

pytestmark = pytest.mark.node
ADMIN = {"Authorization": f"Bearer {DEV_ADMIN_TOKEN}"}


@pytest.mark.parametrize(
    ("language", "title"), [("en", "WeChat refused the request"), ("zh", "微信拒绝了请求")]
)
async def test_wechat_refusing_the_phone_number_is_shown_on_the_phone(
    stack: Stack, language: str, title: str
) -> None:
    status, body = await stack.post(
        "/admin/v1/connections",
        {"id": "with-phone", "display_name": "Phone Shop", "apps": ["demo"], "request_phone": True},
        headers=ADMIN,
    )
    assert status == 201, body
    user = next(u for u in await stack.users() if u["phone"])
    async with stack.http.post(
        f"{stack.sandbox_url}/__sandbox/faults",
        json={"errcode": 40226, "path": "/wxa/business/getuserphonenumber", "count": 1},
    ) as r:
        assert r.status == 201
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

    assert code == 1, result
    assert (result["outcome"], result["outcome_reason"]) == ("failed", "wechat_refused")
    assert result["message"]["title"] == title
    assert "Confirmed" not in str(result["message"])
    assert "已确认" not in str(result["message"])
    assert pc["reason"] == "wechat_refused:40226"
