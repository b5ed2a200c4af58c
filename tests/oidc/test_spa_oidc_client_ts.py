"""A single-page app on an origin of its own logs in with oidc-client-ts in real Chromium, as
a public client: discovery, the hosted /login page with PKCE, the code redeemed from the
browser (CORS), userinfo, a refresh with the rotated refresh token, and RP-initiated logout
back to the app. The app's page and the library are served by the test."""

from __future__ import annotations

import json
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from aiohttp import web
from minilogin_testkit import Stack
from oidc_testkit import ADMIN, Client, refresh
from playwright.async_api import Browser

from devstack.seed import DEMO_CONNECTION
from shared.web import AppRunner

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]
PAGE = Path(__file__).with_name("spa") / "index.html"
LIBRARY = ROOT / "tests/browser/js/node_modules/oidc-client-ts/dist/browser/oidc-client-ts.min.js"


@pytest.fixture
async def spa_origin() -> AsyncIterator[str]:
    """The app's own origin: its page at /, /callback and /signed-out, and the library."""

    async def page(_: web.Request) -> web.FileResponse:
        return web.FileResponse(PAGE)

    async def library(_: web.Request) -> web.FileResponse:
        return web.FileResponse(LIBRARY)

    app = web.Application()
    for path in ("/", "/callback", "/signed-out"):
        app.router.add_get(path, page)
    app.router.add_get("/oidc-client-ts.min.js", library)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    runner = AppRunner(app, access_log=None)
    await runner.setup()
    await web.SockSite(runner, sock).start()
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        await runner.cleanup()
        sock.close()


@pytest.mark.parametrize("stack_kind", ["embedded"])
async def test_spa_logs_in_refreshes_and_logs_out_with_oidc_client_ts(
    stack: Stack, spa_origin: str, chromium: Browser
) -> None:
    assert LIBRARY.exists(), "run scripts/ensure-browser-tools.sh (make browser)"
    status, app = await stack.post(
        "/admin/v1/apps",
        {
            "name": "Test SPA",
            "token_endpoint_auth_method": "none",
            "redirect_uris": [f"{spa_origin}/callback"],
            "web_origins": [spa_origin],
            "post_logout_redirect_uris": [f"{spa_origin}/signed-out"],
            "refresh_tokens": True,
            "connections": [DEMO_CONNECTION],
        },
        headers=ADMIN,
    )
    assert status == 201, app
    user = (await stack.users())[0]
    page = await (await chromium.new_context()).new_page()
    failures: list[str] = []
    page.on("requestfailed", lambda r: failures.append(r.url))
    await page.goto(f"{spa_origin}/?{urlencode({'authority': stack.public, **app_id(app)})}")

    async with page.expect_response(
        lambda r: r.url.endswith("/api/v1/tickets") and r.request.method == "POST"
    ) as created:
        await page.evaluate("() => { spa.login(); }")  # not awaited: it navigates away
    ticket = (await (await created.value).json())["ticket"]
    assert page.url.startswith(f"{stack.public}/login?")

    status, scan = await stack.scan(ticket, user["openid"])
    assert status == 200, scan
    confirm = {
        "ticket": ticket,
        "session": scan["session"],
        "phone_code": await stack.phone_code(user["openid"]),
        "nickname": "SPA User",
    }
    assert (await stack.post("/mp/v1/confirm", confirm))[0] == 200

    await page.wait_for_url(f"{spa_origin}/callback?*")
    await page.wait_for_function("[...document.querySelectorAll('p')].some((p) => p.textContent)")
    assert await page.text_content("#problem") == ""
    first: dict[str, Any] = json.loads(await page.text_content("#who") or "{}")
    assert first["name"] == "SPA User"  # from userinfo, read across origins
    assert first["phone_number"] == f"+{user['country_code']}{user['phone']}"
    assert first["refresh_token"]

    rotated = await page.evaluate("spa.refresh()")
    assert rotated
    assert rotated != first["refresh_token"]
    second = json.loads(await page.text_content("#who") or "{}")
    assert second["sub"] == first["sub"]
    assert second["access_token"] != first["access_token"]

    await page.evaluate("() => { spa.logout(); }")
    await page.wait_for_url(f"{spa_origin}/signed-out?state=*")
    assert failures == []
    # The logout ended the login: its refresh token no longer works.
    public = Client(app["client_id"], None, f"{spa_origin}/callback")
    status, body = await refresh(stack, public, rotated)
    assert (status, body["error"]) == (400, "invalid_grant")


def app_id(app: dict[str, Any]) -> dict[str, str]:
    return {"client_id": app["client_id"]}
