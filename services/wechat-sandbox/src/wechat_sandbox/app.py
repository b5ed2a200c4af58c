"""The sandbox application factory and its one error-rendering middleware."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from pydantic import ValidationError

from shared import ids, logs
from shared.clock import Clock
from shared.errors import AppError, InvalidRequest, MalformedJson, error_body
from shared.web import hide_server_version
from wechat_sandbox import routes_api, routes_control
from wechat_sandbox.keys import STATE
from wechat_sandbox.settings import SandboxConfig
from wechat_sandbox.state import SandboxState, as_advancing
from wechat_sandbox.wxerrors import ERRMSG, WxError, new_rid

__all__ = ["STATE", "create_app"]

log = logs.get(__name__)

_SECRET_PARAMS = frozenset({"secret", "access_token", "js_code", "signature"})


def _redacted_url(request: web.Request) -> str:
    query = [(k, "***" if k in _SECRET_PARAMS else v) for k, v in request.query.items()]
    return request.path + ("?" + urlencode(query) if query else "")


def _wx_error(request: web.Request, exc: WxError, started: float) -> web.Response:
    state = request.app[STATE]
    now = state.clock.now()
    rid = new_rid(now)
    text = exc.errmsg
    if exc.errcode == 40164:
        ip = request.remote or "127.0.0.1"
        text = f"invalid ip {ip} ipv6 ::ffff:{ip}, not in whitelist"
    body = {"errcode": exc.errcode, "errmsg": f"{text} rid: {rid}"}
    appid = request.query.get("appid")
    state.rids.append(
        {
            "rid": rid,
            "appid": appid,
            "request": {
                "invoke_time": int(now),
                "cost_in_ms": int((time.monotonic() - started) * 1000),
                "request_url": _redacted_url(request),
                "request_body": "",
                "response_body": json.dumps(body, ensure_ascii=False),
                "client_ip": request.remote or "",
            },
        }
    )
    log.info("sandbox_api_error", path=request.path, errcode=exc.errcode, rid=rid)
    return routes_api.wx_json(body)


def _control_error(exc: AppError) -> web.Response:
    return web.json_response(
        error_body(exc.code, exc.detail_message, ids.random_base62(16), exc.details),
        status=exc.status,
    )


def _validation_error(exc: ValidationError) -> AppError:
    problems = exc.errors(include_url=False, include_input=False, include_context=False)
    if any(p["type"] == "json_invalid" for p in problems):
        return MalformedJson()
    details = [
        {"field": ".".join(str(part) for part in p["loc"]), "problem": p["msg"]} for p in problems
    ]
    return InvalidRequest(details=details)


async def _api(request: web.Request, handler: Any) -> web.StreamResponse:
    """WeChat's side: fault injection, then errors as HTTP 200 {"errcode", "errmsg"}."""
    state = request.app[STATE]
    started = time.monotonic()
    state.calls[request.path] += 1
    fault = state.take_fault(request.path)
    if fault is not None:
        if fault.latency_ms:
            await asyncio.sleep(fault.latency_ms / 1000)
        if fault.errcode is not None:
            message = ERRMSG.get(fault.errcode, "injected fault")
            return _wx_error(request, WxError(fault.errcode, message), started)
    try:
        response: web.StreamResponse = await handler(request)
    except WxError as exc:
        return _wx_error(request, exc, started)
    return response


@web.middleware
async def error_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    is_control = request.path.startswith(routes_control.PREFIX + "/")
    try:
        if is_control:
            response: web.StreamResponse = await handler(request)
            return response
        return await _api(request, handler)
    except ValidationError as exc:
        return _control_error(_validation_error(exc))
    except AppError as exc:
        return _control_error(exc)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        code = "not_found" if exc.status == 404 else "method_not_allowed"
        return web.json_response(
            error_body(code, exc.reason, ids.random_base62(16)), status=exc.status
        )
    except Exception:
        log.exception("sandbox_unhandled_error", path=request.path)
        if is_control:
            return web.json_response(
                error_body("internal_error", "Internal error.", ids.random_base62(16)), status=500
            )
        return routes_api.wx_json({"errcode": -1, "errmsg": "system error"})


def create_app(
    *, clock: Clock | None = None, config: SandboxConfig | None = None
) -> web.Application:
    """The sandbox. A clock with `advance()` (FakeClock) is shared as is, so tests and
    `/__sandbox/clock/advance` move the same time; any other clock is wrapped in an offset."""
    app = web.Application(middlewares=[error_middleware], client_max_size=16 * 1024 * 1024)
    hide_server_version(app)
    app[STATE] = SandboxState(config or SandboxConfig(), as_advancing(clock))
    routes_api.setup(app)
    routes_control.setup(app)
    return app
