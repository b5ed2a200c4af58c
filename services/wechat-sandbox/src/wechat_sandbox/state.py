"""The sandbox's world: apps, users, issued codes, tokens and counters, on an injected clock.

Methods implement the contract of wechat-api.md §13 and raise `WxError` with the errcode
the real API would answer; the HTTP layer only parses parameters and renders results.
"""

from __future__ import annotations

import base64
import hmac
import os
import re
import secrets
from collections import Counter, deque
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Protocol

from shared.clock import Clock, SystemClock
from shared.errors import Conflict, NotFound
from wechat_sandbox import links
from wechat_sandbox.limits import DAY, MINUTE, WindowCounter
from wechat_sandbox.settings import SandboxConfig
from wechat_sandbox.tokens import Token, TokenBook
from wechat_sandbox.wxerrors import WxError

SCENE_CHARS = re.compile(r"^[0-9A-Za-z!#$&'()*+,/:;=?@\-._~]+$")
ENV_VERSIONS = frozenset({"release", "trial", "develop"})
_CODE_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


class AdvancingClock(Protocol):
    def now(self) -> float: ...
    def advance(self, seconds: float) -> None: ...


class OffsetClock:
    """Wraps a clock that cannot be moved (the system clock) so the sandbox can still advance."""

    def __init__(self, base: Clock) -> None:
        self._base = base
        self._offset = 0.0

    def now(self) -> float:
        return self._base.now() + self._offset

    def advance(self, seconds: float) -> None:
        self._offset += seconds


def as_advancing(clock: Clock | None) -> AdvancingClock:
    if clock is None:
        return OffsetClock(SystemClock())
    if callable(getattr(clock, "advance", None)):
        return clock  # type: ignore[return-value]  # checked structurally just above
    return OffsetClock(clock)


@dataclass(slots=True)
class App:
    appid: str
    secret: str = field(repr=False)
    open_platform_bound: bool
    pages: tuple[str, ...]
    name: str

    def public(self) -> dict[str, Any]:
        return {
            "appid": self.appid,
            "name": self.name,
            "open_platform_bound": self.open_platform_bound,
            "pages": list(self.pages),
        }


@dataclass(slots=True)
class User:
    openid: str
    unionid: str
    nickname: str
    avatar_url: str
    phone: str | None = None
    country_code: str = "86"
    risky: bool = False

    def public(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(slots=True)
class IssuedCode:
    appid: str
    openid: str
    minted_at: float
    used: bool = False


@dataclass(slots=True)
class Fault:
    id: int
    errcode: int | None
    remaining: int | None  # None: until cleared
    path: str | None
    latency_ms: int

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "errcode": self.errcode,
            "count": self.remaining,
            "path": self.path,
            "latency_ms": self.latency_ms,
        }


@dataclass(frozen=True, slots=True)
class WxacodeRequest:
    appid: str
    page: str
    scene: str
    env_version: str
    width: int
    is_hyaline: bool
    line_color: tuple[int, int, int]


class PhoneQuotaExhausted(Exception):
    """The mini program would get errno 1400001 and no code."""


class SandboxState:
    def __init__(self, config: SandboxConfig, clock: AdvancingClock) -> None:
        self.config = config
        self.clock = clock
        self.apps: dict[str, App] = {}
        self.users: dict[str, User] = {}
        self.tokens = TokenBook()
        self.limits = WindowCounter()
        self.calls: Counter[str] = Counter()
        self.faults: list[Fault] = []
        self.rids: deque[dict[str, Any]] = deque(maxlen=config.rid_log_size)
        self.phone_quota = config.phone_quota
        self._login_codes: dict[str, IssuedCode] = {}
        self._phone_codes: dict[str, IssuedCode] = {}
        self._session_keys: dict[tuple[str, str], str] = {}
        self._links: dict[str, links.IssuedLink] = {}
        self._fault_ids = 0
        self.seed()

    # -- set-up ----------------------------------------------------------------------------

    def seed(self) -> None:
        cfg = self.config
        self.register_app(cfg.appid, cfg.secret, cfg.open_platform_bound, cfg.pages, cfg.app_name)
        for demo in cfg.demo_users:
            self.upsert_user(
                User(
                    openid=demo.openid,
                    unionid=demo.unionid,
                    nickname=demo.nickname,
                    avatar_url=demo.avatar_url,
                    phone=demo.phone,
                    country_code=demo.country_code,
                    risky=demo.risky,
                )
            )

    def reset(self) -> None:
        """Forget everything except the startup configuration, then seed again."""
        self.apps.clear()
        self.users.clear()
        self.tokens.clear()
        self.limits.clear()
        self.calls.clear()
        self.faults.clear()
        self.rids.clear()
        self._login_codes.clear()
        self._phone_codes.clear()
        self._session_keys.clear()
        self._links.clear()
        self.phone_quota = self.config.phone_quota
        self.seed()

    def reconfigure(self, **changes: Any) -> None:
        self.config = replace(self.config, **changes)
        if "phone_quota" in changes:
            self.phone_quota = self.config.phone_quota

    def register_app(
        self, appid: str, secret: str, open_platform_bound: bool, pages: tuple[str, ...], name: str
    ) -> tuple[App, bool]:
        created = appid not in self.apps
        app = App(appid, secret, open_platform_bound, pages, name)
        self.apps[appid] = app
        return app, created

    def upsert_user(self, user: User) -> bool:
        created = user.openid not in self.users
        self.users[user.openid] = user
        return created

    def add_fault(
        self, errcode: int | None, count: int | None, path: str | None, latency_ms: int
    ) -> Fault:
        self._fault_ids += 1
        fault = Fault(self._fault_ids, errcode, count, path, latency_ms)
        self.faults.append(fault)
        return fault

    def take_fault(self, path: str) -> Fault | None:
        """The first armed fault matching `path`; consumes one of its uses."""
        for fault in self.faults:
            if fault.path is not None and fault.path != path:
                continue
            if fault.remaining is not None:
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self.faults.remove(fault)
            return fault
        return None

    # -- the phone side (control API) -------------------------------------------------------

    def _app_and_user(self, appid: str, openid: str) -> tuple[App, User]:
        app = self.apps.get(appid)
        if app is None:
            raise NotFound(f"No app {appid!r} is registered.")
        user = self.users.get(openid)
        if user is None:
            raise NotFound(f"No user {openid!r} exists.")
        return app, user

    def mint_login_code(self, appid: str, openid: str) -> str:
        """wx.login(): a 5-minute single-use code; may rotate the user's session_key."""
        app, user = self._app_and_user(appid, openid)
        key = (app.appid, user.openid)
        if self.config.rotate_session_key or key not in self._session_keys:
            self._session_keys[key] = base64.b64encode(os.urandom(16)).decode("ascii")
        code = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(32))
        self._login_codes[code] = IssuedCode(app.appid, user.openid, self.clock.now())
        return code

    def mint_phone_code(self, appid: str, openid: str) -> dict[str, Any]:
        """The getPhoneNumber button: a single-use code."""
        app, user = self._app_and_user(appid, openid)
        if user.phone is None:
            raise Conflict("This user has no phone number bound.")
        if self.phone_quota <= 0:
            raise PhoneQuotaExhausted()
        now = self.clock.now()
        code = secrets.token_hex(32)
        self._phone_codes[code] = IssuedCode(app.appid, user.openid, now)
        return {"code": code, "expires_in": self.config.code_ttl}

    # -- access tokens ---------------------------------------------------------------------

    def _authenticate(
        self,
        appid: str | None,
        secret: str | None,
        grant_type: str | None,
        *,
        expected_grant: str = "client_credential",
        required: tuple[tuple[str | None, int], ...] = (),
    ) -> App:
        """The app behind appid + secret, with WeChat's errcodes in WeChat's order:
        missing parameters (`required` adds an endpoint's own, with its errcode), grant
        type, unknown appid, wrong secret."""
        for value, errcode in ((appid, 41002), (secret, 41004), *required):
            if not value:
                raise WxError(errcode)
        assert appid is not None  # narrowed for the type checker: refused above when empty
        assert secret is not None
        if grant_type != expected_grant:
            raise WxError(40002)
        app = self.apps.get(appid)
        if app is None:
            raise WxError(40013)
        if not hmac.compare_digest(app.secret.encode(), secret.encode()):
            raise WxError(40125)
        return app

    def issue_token(
        self, appid: str | None, secret: str | None, grant_type: str | None
    ) -> dict[str, Any]:
        app = self._authenticate(appid, secret, grant_type)
        now = self.clock.now()
        if self.limits.hit("token", app.appid, DAY, now) > self.config.token_daily_quota:
            raise WxError(45009)
        cfg = self.config
        token = self.tokens.issue(app.appid, now, cfg.token_expires_in, cfg.token_grace)
        return self._success({"access_token": token.value, "expires_in": cfg.token_expires_in})

    def stable_token(
        self, appid: str | None, secret: str | None, grant_type: str | None, force: bool
    ) -> dict[str, Any]:
        app = self._authenticate(appid, secret, grant_type)
        now, cfg = self.clock.now(), self.config
        if self.limits.hit("stable", app.appid, MINUTE, now) > cfg.stable_token_minute_limit:
            raise WxError(45011)
        if self.limits.hit("stable", app.appid, DAY, now) > cfg.stable_token_daily_limit:
            raise WxError(45009)
        if force and self.limits.peek("stable-force", app.appid, DAY, now) >= (
            cfg.stable_force_daily_limit
        ):
            raise WxError(45009)
        token, forced = self.tokens.stable(
            app.appid,
            now,
            cfg.token_expires_in,
            cfg.token_grace,
            force=force,
            min_interval=cfg.stable_force_min_interval,
        )
        if forced:
            self.limits.hit("stable-force", app.appid, DAY, now)
        remaining = max(0, int(token.expires_at - now))
        return self._success({"access_token": token.value, "expires_in": remaining})

    def check_token(self, value: str | None) -> App:
        token: Token = self.tokens.check(value, self.clock.now())
        app = self.apps.get(token.appid)
        if app is None:
            raise WxError(40001)
        return app

    # -- jscode2session --------------------------------------------------------------------

    def jscode2session(
        self, appid: str | None, secret: str | None, js_code: str | None, grant_type: str | None
    ) -> dict[str, Any]:
        app = self._authenticate(
            appid,
            secret,
            grant_type,
            expected_grant="authorization_code",
            required=((js_code, 41008),),
        )
        assert js_code is not None  # _authenticate refused a missing one
        now, cfg = self.clock.now(), self.config
        issued = self._login_codes.get(js_code)
        if issued is None:
            raise WxError(40029)
        if self.limits.hit("jscode", issued.openid, MINUTE, now) > cfg.jscode_user_minute_limit:
            raise WxError(45011)
        if issued.appid != app.appid:
            raise WxError(40029)
        if issued.used:
            raise WxError(cfg.reused_code_errcode)
        if now - issued.minted_at >= cfg.code_ttl:
            raise WxError(40029)
        issued.used = True
        user = self.users.get(issued.openid)
        if user is None:
            raise WxError(40029)
        if user.risky:
            raise WxError(40226)
        session_key = self._session_keys[(app.appid, user.openid)]
        body: dict[str, Any] = {"session_key": session_key, "openid": user.openid}
        if app.open_platform_bound:
            body["unionid"] = user.unionid
        return self._success(body)

    # -- phone number ----------------------------------------------------------------------

    def phone_number(self, app: App, code: Any, openid: Any) -> dict[str, Any]:
        if not isinstance(code, str) or not code:
            raise WxError(40029)
        issued = self._phone_codes.get(code)
        if (
            issued is None
            or issued.used
            or self.clock.now() - issued.minted_at >= (self.config.code_ttl)
        ):
            raise WxError(40029)
        if issued.appid != app.appid:
            raise WxError(40013)
        if openid is not None and openid != issued.openid:
            raise WxError(40029)  # [unconfirmed] what the real check answers
        issued.used = True
        user = self.users.get(issued.openid)
        if user is None or user.phone is None:
            raise WxError(40029)
        self.phone_quota -= 1
        return {
            "errcode": 0,
            "errmsg": "ok",
            "phone_info": self._phone_info(app, user, int(issued.minted_at)),
        }

    def _phone_info(self, app: App, user: User, timestamp: int) -> dict[str, Any]:
        assert user.phone is not None
        cc = user.country_code
        return {
            "phoneNumber": user.phone if cc == "86" else f"+{cc} {user.phone}",
            "purePhoneNumber": user.phone,
            "countryCode": int(cc) if self.config.country_code_as_number else cc,
            "watermark": {"timestamp": timestamp, "appid": app.appid},
        }

    # -- getwxacodeunlimit -----------------------------------------------------------------

    def wxacode_request(self, app: App, body: dict[str, Any]) -> WxacodeRequest:
        """Validate a getwxacodeunlimit body in the order of wechat-api.md §13."""
        if self.limits.hit("wxacode", app.appid, MINUTE, self.clock.now()) > (
            self.config.wxacode_minute_limit
        ):
            raise WxError(45009)
        scene = body.get("scene")
        if not isinstance(scene, str) or not 1 <= len(scene) <= 32:
            raise WxError(40169)
        if not SCENE_CHARS.match(scene):
            raise WxError(40129)
        page = body.get("page", app.pages[0] if app.pages else "")
        if not isinstance(page, str):
            raise WxError(41030)
        if "scancode_time" in page or "scancode_time" in scene:
            raise WxError(85096)
        check_path = body.get("check_path", True)
        if not isinstance(check_path, bool):
            raise WxError(47001)
        if not page or page.startswith("/") or "?" in page:
            raise WxError(41030)
        if check_path and page not in app.pages:
            raise WxError(41030)
        env_version = body.get("env_version", "release")
        if env_version not in ENV_VERSIONS:
            raise WxError(40097)
        width = body.get("width", 430)
        is_hyaline = body.get("is_hyaline", False)
        auto_color = body.get("auto_color", False)
        if (
            isinstance(width, bool)
            or not isinstance(width, int)
            or not isinstance(is_hyaline, bool)
            or not isinstance(auto_color, bool)
        ):
            raise WxError(47001)
        return WxacodeRequest(
            appid=app.appid,
            page=page,
            scene=scene,
            env_version=env_version,
            width=min(1280, max(280, width)),  # [unconfirmed] clamped rather than refused
            is_hyaline=is_hyaline,
            line_color=(0, 0, 0) if auto_color else _line_color(body.get("line_color")),
        )

    # -- URL Scheme and URL Link ----------------------------------------------------------

    def generate_link(self, app: App, kind: links.LinkKind, body: dict[str, Any]) -> dict[str, Any]:
        """generatescheme (`kind` scheme) or generate_urllink (`kind` link): the two share
        one daily quota per mini program."""
        now, cfg = self.clock.now(), self.config
        if self.limits.hit("link", app.appid, 1, now) > cfg.link_second_limit:
            raise WxError(44990)
        if self.limits.peek("link", app.appid, DAY, now) >= cfg.link_daily_quota:
            raise WxError(45009)
        jump = body.get("jump_wxa", {}) if kind == "scheme" else body
        path, query, env_version = links.target(jump, app.pages)
        expires_at = links.expiry(body, now)
        self.limits.hit("link", app.appid, DAY, now)
        token = links.new_token()
        self._links[token] = links.IssuedLink(kind, app.appid, path, query, env_version, expires_at)
        field_name = "openlink" if kind == "scheme" else "url_link"
        return {"errcode": 0, "errmsg": "ok", field_name: links.url_for(kind, token)}

    def open_link(self, url: str) -> dict[str, Any]:
        """A phone following a link: what the mini program opens, or NotFound."""
        token = links.token_of(url)
        issued = self._links.get(token or "")
        if issued is None or self.clock.now() >= issued.expires_at:
            raise NotFound("No such link, or it has expired.")
        return issued.launch()

    # -- helpers ---------------------------------------------------------------------------

    def _success(self, body: dict[str, Any]) -> dict[str, Any]:
        if self.config.errcode_on_success:
            return {"errcode": 0, "errmsg": "ok", **body}
        return body


def _line_color(value: Any) -> tuple[int, int, int]:
    """{"r","g","b"} as numbers or numeric strings (the docs show both), 0..255."""
    if value is None:
        return (0, 0, 0)
    if not isinstance(value, dict):
        raise WxError(47001)
    channels: list[int] = []
    for name in ("r", "g", "b"):
        raw = value.get(name, 0)
        try:
            channel = int(raw)
        except (TypeError, ValueError):
            raise WxError(47001) from None
        if isinstance(raw, bool) or not 0 <= channel <= 255:
            raise WxError(47001)
        channels.append(channel)
    return (channels[0], channels[1], channels[2])
