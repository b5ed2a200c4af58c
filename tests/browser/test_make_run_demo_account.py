"""`make run` gives a newcomer what they need to try ask-binding within a minute: the banner
prints a local demo account's email and password (stored as an argon2id hash that the
password verifies), the demo app offers an ask-binding connection beside its normal login,
and the demo's normal login still names its own connection."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
from axe import assert_accessible
from browserkit import screenshot_dir
from minilogin_testkit import SANDBOX_APPID, make_run, pkce
from playwright.async_api import Browser
from pymongo import AsyncMongoClient

from account import passwords
from devstack.seed import BINDING_CONNECTION, DEMO_CLIENT_ID, DEMO_CONNECTION

pytestmark = pytest.mark.browser
BANNER_ACCOUNT = re.compile(r"email (\S+)\s+password (\S+)")


async def _ask_binding_login(http: aiohttp.ClientSession, base: str, sandbox: str) -> str:
    """A WeChat login through the demo's ask-binding connection: how it ends."""
    _, challenge = pkce()
    body = {
        "client_id": DEMO_CLIENT_ID,
        "redirect_uri": f"{base}/demo/callback",
        "code_challenge": challenge,
        "connection": BINDING_CONNECTION,
    }
    async with http.post(f"{base}/api/v1/tickets", json=body) as r:
        assert r.status == 201, await r.text()
        ticket = (await r.json())["ticket"]
    async with http.get(f"{sandbox}/__sandbox/users") as r:
        openid = (await r.json())["users"][0]["openid"]
    async with http.post(
        f"{sandbox}/__sandbox/login-code", json={"appid": SANDBOX_APPID, "openid": openid}
    ) as r:
        code = (await r.json())["code"]
    async with http.ws_connect(f"{base.replace('http', 'ws', 1)}/ws/tickets/{ticket}") as ws:
        async with http.post(f"{base}/mp/v1/scan", json={"ticket": ticket, "code": code}) as r:
            session = (await r.json())["session"]
        async with http.post(
            f"{base}/mp/v1/confirm", json={"ticket": ticket, "session": session}
        ) as r:
            assert r.status == 200, await r.text()
        while (msg := await ws.receive_json(timeout=10))["status"] in ("pending", "scanned"):
            pass
        while msg["status"] == "confirmed":
            msg = await ws.receive_json(timeout=10)
    status: str = msg["status"]
    return status


async def test_make_run_prints_a_demo_account_to_link_wechat_to(
    mongo_url: str, namespace: str, chromium: Browser
) -> None:
    async with (
        make_run(mongo_url, namespace) as run,
        aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http,
    ):
        base, sandbox, banner = run.base, run.sandbox, run.banner
        found = BANNER_ACCOUNT.search(banner)
        assert found, banner
        email, password = found.groups()
        mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_url)
        try:
            user = await mongo[namespace]["users"].find_one({"email": email})
        finally:
            await mongo.close()
        assert user is not None
        assert user["password_hash"].startswith("$argon2id$")
        assert passwords.verify(user["password_hash"], password)
        assert not passwords.verify(user["password_hash"], password + "x")

        # The demo page offers the ask-binding login with the account beside it.
        async with http.get(f"{base}/demo/") as r:
            page = await r.text()
        assert f'href="/demo/login?connection={BINDING_CONNECTION}"' in page
        assert email in page
        assert password in page
        # Its normal login is unchanged: it names the demo's own connection.
        for wanted, named in (("", DEMO_CONNECTION), (BINDING_CONNECTION, BINDING_CONNECTION)):
            async with http.get(
                f"{base}/demo/login?connection={wanted}", allow_redirects=False
            ) as r:
                assert r.status == 302
                query = parse_qs(urlsplit(r.headers["Location"]).query)
            assert query["connection"] == [named]
        assert await _ask_binding_login(http, base, sandbox) == "binding_required"

        page_in_chromium = await (await chromium.new_context(locale="en-US")).new_page()
        await page_in_chromium.goto(f"{base}/demo/")
        await page_in_chromium.screenshot(
            path=str(screenshot_dir() / "demo-binding-offer.png"), full_page=True
        )
        await assert_accessible(page_in_chromium, "demo home with the ask-binding offer")
