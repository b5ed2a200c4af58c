"""Test-only control API under /__sandbox/: the phone side, fault injection and the clock.

WeChat never serves this prefix, so nothing here can be mistaken for the contract.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import asdict
from typing import Annotated, Any, Literal, Self, TypeVar

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from shared.errors import InvalidRequest
from wechat_sandbox import qr
from wechat_sandbox.keys import STATE
from wechat_sandbox.settings import DEFAULT_PAGES, svg_avatar
from wechat_sandbox.state import PhoneQuotaExhausted, User

PREFIX = "/__sandbox"

AppId = Annotated[str, StringConstraints(pattern=r"^wx[0-9a-f]{16}$")]
Secret = Annotated[str, StringConstraints(pattern=r"^[0-9A-Za-z]{16,64}$")]
PagePath = Annotated[
    str, StringConstraints(pattern=r"^[A-Za-z0-9_\-]+(/[A-Za-z0-9_\-]+)*$", max_length=256)
]
WxId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_\-]{6,64}$")]
Name = Annotated[str, StringConstraints(min_length=1, max_length=64)]
_AVATAR_COLOURS = ("#07c160", "#10aeff", "#fa9d3b", "#576b95", "#e64340")

M = TypeVar("M", bound="_Input")


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class AppIn(_Input):
    appid: AppId
    secret: Secret
    open_platform_bound: bool = False
    pages: list[PagePath] = Field(default_factory=lambda: list(DEFAULT_PAGES), max_length=200)
    name: Name = "Sandbox mini program"


class UserIn(_Input):
    openid: WxId | None = None
    unionid: WxId | None = None
    nickname: Name = "微信用户"
    avatar_url: Annotated[str, StringConstraints(max_length=100_000)] | None = None
    phone: Annotated[str, StringConstraints(pattern=r"^[0-9]{5,15}$")] | None = None
    country_code: Annotated[str, StringConstraints(pattern=r"^[0-9]{1,4}$")] = "86"
    risky: bool = False


class MintIn(_Input):
    appid: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    openid: Annotated[str, StringConstraints(min_length=1, max_length=64)]


class FaultIn(_Input):
    errcode: Annotated[int, Field(ge=-1, le=99_999_999)] | None = None
    count: Annotated[int, Field(ge=1, le=1_000_000)] | None = 1  # null: until cleared
    path: Annotated[str, StringConstraints(pattern=r"^/[A-Za-z0-9_/\-]*$")] | None = None
    latency_ms: Annotated[int, Field(ge=0, le=60_000)] = 0

    @model_validator(mode="after")
    def _does_something(self) -> Self:
        if self.errcode is None and self.latency_ms == 0:
            raise ValueError("a fault needs an errcode, a latency_ms or both")
        if self.errcode == 0:
            raise ValueError("errcode 0 is success, not a fault")
        return self


class AdvanceIn(_Input):
    seconds: Annotated[float, Field(ge=0, le=10 * 365 * 86_400)]


class ConfigIn(_Input):
    reused_code_errcode: Literal[40163, 40029] | None = None
    errcode_on_success: bool | None = None
    country_code_as_number: bool | None = None
    rotate_session_key: bool | None = None
    image_format: Literal["png", "jpeg"] | None = None
    code_ttl: Annotated[int, Field(ge=1, le=86_400)] | None = None
    token_daily_quota: Annotated[int, Field(ge=0)] | None = None
    jscode_user_minute_limit: Annotated[int, Field(ge=0)] | None = None
    wxacode_minute_limit: Annotated[int, Field(ge=0)] | None = None
    phone_quota: Annotated[int, Field(ge=0)] | None = None
    link_daily_quota: Annotated[int, Field(ge=0)] | None = None
    link_second_limit: Annotated[int, Field(ge=0)] | None = None


class OpenLinkIn(_Input):
    url: Annotated[str, StringConstraints(min_length=1, max_length=2048)]


class ScanIn(_Input):
    payload: Annotated[str, StringConstraints(min_length=1, max_length=4096)] | None = None
    image_base64: Annotated[str, StringConstraints(min_length=1, max_length=10_000_000)] | None = (
        None
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        if (self.payload is None) == (self.image_base64 is None):
            raise ValueError("give exactly one of payload and image_base64")
        return self


async def _parse(request: web.Request, model: type[M]) -> M:
    raw = await request.read()
    # pydantic's ValidationError is rendered as 400 invalid_request by the middleware.
    return model.model_validate_json(raw if raw.strip() else b"{}")


def _config_view(request: web.Request) -> dict[str, Any]:
    state = request.app[STATE]
    view = asdict(state.config)
    for hidden in ("secret", "demo_users", "host", "port"):
        view.pop(hidden, None)
    view["pages"] = list(state.config.pages)
    view["phone_quota_remaining"] = state.phone_quota
    return view


async def health(_: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def register_app(request: web.Request) -> web.Response:
    body = await _parse(request, AppIn)
    app, created = request.app[STATE].register_app(
        body.appid, body.secret, body.open_platform_bound, tuple(body.pages), body.name
    )
    return web.json_response(app.public(), status=201 if created else 200)


async def list_apps(request: web.Request) -> web.Response:
    return web.json_response({"apps": [a.public() for a in request.app[STATE].apps.values()]})


async def create_user(request: web.Request) -> web.Response:
    body = await _parse(request, UserIn)
    user = User(
        openid=body.openid or "o" + secrets.token_urlsafe(21)[:27],
        unionid=body.unionid or "o" + secrets.token_urlsafe(21)[:27],
        nickname=body.nickname,
        avatar_url=body.avatar_url
        or svg_avatar(body.nickname[:1].upper(), secrets.choice(_AVATAR_COLOURS)),
        phone=body.phone,
        country_code=body.country_code,
        risky=body.risky,
    )
    created = request.app[STATE].upsert_user(user)
    return web.json_response(user.public(), status=201 if created else 200)


async def list_users(request: web.Request) -> web.Response:
    return web.json_response({"users": [u.public() for u in request.app[STATE].users.values()]})


async def login_code(request: web.Request) -> web.Response:
    """wx.login() on the phone: {appid, openid} -> {code, expires_in}."""
    body = await _parse(request, MintIn)
    state = request.app[STATE]
    code = state.mint_login_code(body.appid, body.openid)
    return web.json_response({"code": code, "expires_in": state.config.code_ttl})


async def phone_code(request: web.Request) -> web.Response:
    """The getPhoneNumber button: {code, expires_in} or errno 1400001."""
    body = await _parse(request, MintIn)
    try:
        result = request.app[STATE].mint_phone_code(body.appid, body.openid)
    except PhoneQuotaExhausted:
        return web.json_response(
            {"errno": 1400001, "errMsg": "getPhoneNumber:fail quota of this mini program used up"}
        )
    return web.json_response(result)


async def add_fault(request: web.Request) -> web.Response:
    body = await _parse(request, FaultIn)
    fault = request.app[STATE].add_fault(body.errcode, body.count, body.path, body.latency_ms)
    return web.json_response(fault.public(), status=201)


async def list_faults(request: web.Request) -> web.Response:
    return web.json_response({"faults": [f.public() for f in request.app[STATE].faults]})


async def clear_faults(request: web.Request) -> web.Response:
    faults = request.app[STATE].faults
    cleared = len(faults)
    faults.clear()
    return web.json_response({"cleared": cleared})


async def get_clock(request: web.Request) -> web.Response:
    return web.json_response({"now": request.app[STATE].clock.now()})


async def advance_clock(request: web.Request) -> web.Response:
    body = await _parse(request, AdvanceIn)
    clock = request.app[STATE].clock
    clock.advance(body.seconds)
    return web.json_response({"now": clock.now()})


async def get_config(request: web.Request) -> web.Response:
    return web.json_response(_config_view(request))


async def patch_config(request: web.Request) -> web.Response:
    body = await _parse(request, ConfigIn)
    request.app[STATE].reconfigure(**body.model_dump(exclude_none=True))
    return web.json_response(_config_view(request))


async def reset(request: web.Request) -> web.Response:
    request.app[STATE].reset()
    return web.json_response({"reset": True})


async def scan(request: web.Request) -> web.Response:
    """A phone scanning a code: what the mini program is launched with."""
    body = await _parse(request, ScanIn)
    if body.payload is not None:
        payload = body.payload
    elif body.image_base64 is not None:
        loop = asyncio.get_running_loop()
        payload = await loop.run_in_executor(None, qr.decode_image, body.image_base64)
    else:  # unreachable: the model insists on one of them
        raise InvalidRequest()
    return web.json_response(qr.launch_for(payload))


async def open_link(request: web.Request) -> web.Response:
    """A phone following a URL Scheme or URL Link: what the mini program opens with."""
    body = await _parse(request, OpenLinkIn)
    return web.json_response(request.app[STATE].open_link(body.url))


async def stats(request: web.Request) -> web.Response:
    state = request.app[STATE]
    return web.json_response(
        {"calls": dict(state.calls), "phone_quota_remaining": state.phone_quota}
    )


def setup(app: web.Application) -> None:
    r = app.router
    r.add_get(f"{PREFIX}/health", health)
    r.add_post(f"{PREFIX}/apps", register_app)
    r.add_get(f"{PREFIX}/apps", list_apps)
    r.add_post(f"{PREFIX}/users", create_user)
    r.add_get(f"{PREFIX}/users", list_users)
    r.add_post(f"{PREFIX}/login-code", login_code)
    r.add_post(f"{PREFIX}/phone-code", phone_code)
    r.add_post(f"{PREFIX}/faults", add_fault)
    r.add_get(f"{PREFIX}/faults", list_faults)
    r.add_delete(f"{PREFIX}/faults", clear_faults)
    r.add_get(f"{PREFIX}/clock", get_clock)
    r.add_post(f"{PREFIX}/clock/advance", advance_clock)
    r.add_get(f"{PREFIX}/config", get_config)
    r.add_patch(f"{PREFIX}/config", patch_config)
    r.add_post(f"{PREFIX}/reset", reset)
    r.add_post(f"{PREFIX}/scan", scan)
    r.add_post(f"{PREFIX}/open-link", open_link)
    r.add_get(f"{PREFIX}/stats", stats)
