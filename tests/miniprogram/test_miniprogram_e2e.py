"""The mini program's own page logic, run under Node, logs a waiting PC browser in through
the real scan-gateway and the WeChat sandbox."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from minilogin_testkit import SANDBOX_APPID, Stack, next_status, wait_for_status

SCRIPT = Path(__file__).resolve().parents[2] / "miniprogram" / "test" / "e2e" / "run-login.js"


async def _run_login(
    stack: Stack, qr_url: str, openid: str, **extra: str
) -> tuple[int, dict[str, Any]]:
    node = shutil.which("node")
    assert node, "node is not on PATH: install Node.js 20+"
    env = {k: v for k, v in os.environ.items() if k != "NODE_TEST_CONTEXT"}
    env.update(
        {
            "ML_GATEWAY_URL": stack.base["scan-gateway"],
            "ML_SANDBOX_URL": stack.sandbox_url,
            "ML_APPID": SANDBOX_APPID,
            "ML_OPENID": openid,
            "ML_QR_URL": qr_url,
            **extra,
        }
    )
    proc = await asyncio.create_subprocess_exec(
        node, str(SCRIPT), env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    lines = out.decode().strip().splitlines()
    assert lines, err.decode()
    return proc.returncode or 0, json.loads(lines[-1])


def _assert_refused_on_the_phone(
    code: int, result: dict[str, Any], reason: str, title: str
) -> None:
    """The mini program's run (`code`, `result`) ended on the screen of a login refused for
    `reason`, titled `title`, which nowhere says it was confirmed."""
    assert code == 1, result
    assert (result["outcome"], result["outcome_reason"]) == ("failed", reason)
    assert result["message"]["title"] == title
    assert "Confirmed" not in str(result["message"])
    assert "已确认" not in str(result["message"])


@pytest.mark.node
@pytest.mark.real
async def test_mini_program_logic_completes_a_login_the_pc_browser_receives(
    real_stack: Stack,
) -> None:
    stack = real_stack
    user = (await stack.users())[1]
    browser = stack.browser()
    ticket, _verifier = await browser.ticket()
    async with browser.socket(ticket["ticket"]) as ws:
        assert (await next_status(ws))["status"] == "pending"
        code, result = await _run_login(stack, ticket["qr"]["content"], user["openid"])
        assert code == 0, result
        done = await wait_for_status(ws, "succeeded")
    assert done["redirect_url"].startswith(stack.redirect_uri)


@pytest.mark.node
@pytest.mark.real
async def test_mini_program_logic_reports_a_second_scan_as_already_scanned(
    real_stack: Stack,
) -> None:
    stack = real_stack
    alice, bob = (await stack.users())[:2]
    ticket, _ = await stack.browser().ticket()
    status, _ = await stack.scan(ticket["ticket"], alice["openid"])
    assert status == 200
    code, result = await _run_login(stack, ticket["qr"]["content"], bob["openid"])
    assert code == 1
    assert result["error"]["code"] == "ticket_already_scanned"
