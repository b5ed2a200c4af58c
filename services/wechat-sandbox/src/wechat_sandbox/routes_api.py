"""The imitated api.weixin.qq.com endpoints. Handlers parse; `SandboxState` decides."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aiohttp import web

from wechat_sandbox import qr
from wechat_sandbox.keys import STATE
from wechat_sandbox.wxerrors import WxError

JSON_CONTENT_TYPE = "application/json; encoding=utf-8"  # what WeChat sends, not charset=


def wx_json(body: dict[str, Any]) -> web.Response:
    return web.Response(
        body=json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8"),
        headers={"Content-Type": JSON_CONTENT_TYPE},
    )


def _require(request: web.Request, method: str) -> None:
    if request.method != method:
        raise WxError(43001 if method == "GET" else 43002)


async def _json_body(request: web.Request, *, not_json: int = 47001) -> dict[str, Any]:
    raw = await request.read()
    if not raw.strip():
        raise WxError(44002)
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):  # RecursionError: nested past the parser's depth
        raise WxError(not_json) from None
    if not isinstance(data, dict):
        raise WxError(not_json)
    return data


def _opt_str(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise WxError(47001)


async def token(request: web.Request) -> web.Response:
    _require(request, "GET")
    q = request.query
    state = request.app[STATE]
    return wx_json(state.issue_token(q.get("appid"), q.get("secret"), q.get("grant_type")))


async def stable_token(request: web.Request) -> web.Response:
    _require(request, "POST")
    body = await _json_body(request)
    force = body.get("force_refresh", False)
    if not isinstance(force, bool):
        raise WxError(47001)
    state = request.app[STATE]
    return wx_json(
        state.stable_token(
            _opt_str(body.get("appid")),
            _opt_str(body.get("secret")),
            _opt_str(body.get("grant_type")),
            force,
        )
    )


async def jscode2session(request: web.Request) -> web.Response:
    _require(request, "GET")
    q = request.query
    state = request.app[STATE]
    return wx_json(
        state.jscode2session(q.get("appid"), q.get("secret"), q.get("js_code"), q.get("grant_type"))
    )


async def getwxacodeunlimit(request: web.Request) -> web.Response:
    _require(request, "POST")
    state = request.app[STATE]
    app = state.check_token(request.query.get("access_token"))
    body = await _json_body(request, not_json=40169)
    wxacode = state.wxacode_request(app, body)
    loop = asyncio.get_running_loop()
    image = await loop.run_in_executor(None, qr.render, wxacode, state.config.image_format)
    # The observed header says JPEG whatever the bytes are; clients must sniff.
    return web.Response(body=image, headers={"Content-Type": "image/jpeg"})


async def getuserphonenumber(request: web.Request) -> web.Response:
    _require(request, "POST")
    state = request.app[STATE]
    app = state.check_token(request.query.get("access_token"))
    body = await _json_body(request)
    return wx_json(state.phone_number(app, body.get("code"), body.get("openid")))


async def generatescheme(request: web.Request) -> web.Response:
    _require(request, "POST")
    state = request.app[STATE]
    app = state.check_token(request.query.get("access_token"))
    return wx_json(state.generate_link(app, "scheme", await _json_body(request)))


async def generate_urllink(request: web.Request) -> web.Response:
    _require(request, "POST")
    state = request.app[STATE]
    app = state.check_token(request.query.get("access_token"))
    return wx_json(state.generate_link(app, "link", await _json_body(request)))


async def rid_get(request: web.Request) -> web.Response:
    """POST /cgi-bin/openapi/rid/get: what the sandbox remembers about a failed call."""
    _require(request, "POST")
    state = request.app[STATE]
    app = state.check_token(request.query.get("access_token"))
    body = await _json_body(request)
    rid = body.get("rid")
    for record in state.rids:
        if record["rid"] == rid and record["appid"] in (app.appid, None):
            if record["request"]["request_url"].startswith("/sns/"):
                raise WxError(76022)
            return wx_json({"errcode": 0, "errmsg": "ok", "request": record["request"]})
    raise WxError(76001)


def setup(app: web.Application) -> None:
    # "*" so a wrong method reaches the handler and gets WeChat's 43001/43002, not a 405.
    router = app.router
    router.add_route("*", "/cgi-bin/token", token)
    router.add_route("*", "/cgi-bin/stable_token", stable_token)
    router.add_route("*", "/sns/jscode2session", jscode2session)
    router.add_route("*", "/wxa/getwxacodeunlimit", getwxacodeunlimit)
    router.add_route("*", "/wxa/business/getuserphonenumber", getuserphonenumber)
    router.add_route("*", "/wxa/generatescheme", generatescheme)
    router.add_route("*", "/wxa/generate_urllink", generate_urllink)
    router.add_route("*", "/cgi-bin/openapi/rid/get", rid_get)
