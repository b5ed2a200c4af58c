"""Helpers for the WeChat tests: well-known sandbox data and a driver for the sandbox."""

from __future__ import annotations

import json
import os
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer

from wechat_sandbox import STATE
from wechat_sandbox.settings import DEFAULT_APPID, DEFAULT_SECRET, DEMO_USERS
from wechat_sandbox.state import SandboxState

APPID = DEFAULT_APPID
SECRET = DEFAULT_SECRET
ZHANG = DEMO_USERS[0].openid  # has a mainland phone number
ALICE = DEMO_USERS[2].openid  # has a +1 phone number
BOB = DEMO_USERS[3].openid  # no phone number
RISKY = DEMO_USERS[4].openid  # WeChat blocks their logins (40226)

REAL_REDIS_URL = os.environ.get("ML_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


class Sandbox:
    """The in-process sandbox plus helpers for its control API and raw HTTP calls."""

    def __init__(self, server: TestServer, http: aiohttp.ClientSession, app: web.Application):
        self.server = server
        self.http = http
        self.app = app
        self.base_url = str(server.make_url("")).rstrip("/")

    @property
    def state(self) -> SandboxState:
        return self.app[STATE]

    async def control(
        self, method: str, path: str, body: Any = None, *, expect: int | None = 200
    ) -> Any:
        async with self.http.request(
            method, f"{self.base_url}/__sandbox/{path}", json=body
        ) as resp:
            data = await resp.json()
            if expect is not None:
                assert resp.status == expect, data
            return data

    async def raw(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        data: bytes | None = None,
        json_body: Any = None,
    ) -> tuple[int, str, bytes]:
        async with self.http.request(
            method, self.base_url + path, params=params, data=data, json=json_body
        ) as resp:
            return resp.status, resp.headers.get("Content-Type", ""), await resp.read()

    async def login_code(self, openid: str = ZHANG, appid: str = APPID) -> str:
        result = await self.control("POST", "login-code", {"appid": appid, "openid": openid})
        return str(result["code"])

    async def phone_code(self, openid: str = ZHANG, appid: str = APPID) -> dict[str, Any]:
        result: dict[str, Any] = await self.control(
            "POST", "phone-code", {"appid": appid, "openid": openid}
        )
        return result

    async def fault(self, **fault: Any) -> None:
        await self.control("POST", "faults", fault, expect=201)

    async def configure(self, **changes: Any) -> None:
        await self.control("PATCH", "config", changes)

    async def advance(self, seconds: float) -> None:
        await self.control("POST", "clock/advance", {"seconds": seconds})

    async def register_app(self, appid: str, secret: str, **extra: Any) -> None:
        await self.control("POST", "apps", {"appid": appid, "secret": secret, **extra}, expect=201)

    async def token(self, appid: str = APPID, secret: str = SECRET) -> str:
        status, _, body = await self.raw(
            "GET",
            "/cgi-bin/token",
            params={"grant_type": "client_credential", "appid": appid, "secret": secret},
        )
        assert status == 200
        return str(json.loads(body)["access_token"])

    def calls(self, path: str) -> int:
        return self.state.calls[path]
