"""Sandbox configuration: a frozen value built once from the environment."""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

DEFAULT_APPID = "wx5eb1d2c3a4f60789"
DEFAULT_SECRET = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"  # a development secret, not a real one
DEFAULT_PAGES = ("pages/login/login", "pages/index/index")

ImageFormat = Literal["png", "jpeg"]


def demo_id(prefix: str, seed: str) -> str:
    """A stable 28-character WeChat-shaped id, so demo users survive restarts."""
    digest = base64.urlsafe_b64encode(hashlib.sha256(seed.encode()).digest()).decode()
    return (prefix + digest)[:28]


def svg_avatar(initial: str, colour: str) -> str:
    """A small round avatar as a data URL: the user's initial on a coloured disc."""
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" width="132" height="132" viewBox="0 0 132 132">'
        f'<circle cx="66" cy="66" r="66" fill="{colour}"/>'
        '<text x="66" y="66" dy=".35em" text-anchor="middle" font-size="60" '
        f'font-family="sans-serif" fill="#fff">{initial}</text></svg>'
    )
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


@dataclass(frozen=True, slots=True)
class DemoUser:
    nickname: str
    phone: str | None
    avatar_colour: str
    country_code: str = "86"
    risky: bool = False

    @property
    def openid(self) -> str:
        return demo_id("o", "openid:" + self.nickname)

    @property
    def unionid(self) -> str:
        return demo_id("o", "unionid:" + self.nickname)

    @property
    def avatar_url(self) -> str:
        return svg_avatar(self.nickname[:1].upper(), self.avatar_colour)


DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser("张伟", "13800138000", "#07c160"),
    DemoUser("李娜", "13912345678", "#fa9d3b"),
    DemoUser("Alice Chen", "4155550123", "#10aeff", country_code="1"),
    DemoUser("Bob", None, "#576b95"),
    # A user WeChat considers high risk: jscode2session answers 40226 code blocked.
    DemoUser("风险用户", "13700000000", "#fa5151", risky=True),
)


def _bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True, slots=True)
class SandboxConfig:
    host: str = "127.0.0.1"
    port: int = 8001
    appid: str = DEFAULT_APPID
    secret: str = field(default=DEFAULT_SECRET, repr=False)
    app_name: str = "MiniLogin"
    open_platform_bound: bool = True
    pages: tuple[str, ...] = DEFAULT_PAGES
    demo_users: tuple[DemoUser, ...] = DEMO_USERS
    # Lifetimes and limits (wechat-api.md §2-§7; the unconfirmed ones are the defaults here).
    code_ttl: int = 300
    token_expires_in: int = 7200
    token_grace: int = 300
    token_daily_quota: int = 2000
    stable_token_minute_limit: int = 10_000
    stable_token_daily_limit: int = 500_000
    stable_force_daily_limit: int = 20
    stable_force_min_interval: int = 30
    jscode_user_minute_limit: int = 100
    wxacode_minute_limit: int = 5000
    phone_quota: int = 1000
    # URL Schemes and URL Links together, per mini program (44990 past the second's limit).
    link_daily_quota: int = 500_000
    link_second_limit: int = 100
    # Behaviour switches for the unconfirmed parts of the contract.
    reused_code_errcode: Literal[40163, 40029] = 40163
    errcode_on_success: bool = False  # token and jscode2session successes carry errcode 0
    country_code_as_number: bool = False
    rotate_session_key: bool = True
    image_format: ImageFormat = "png"
    rid_log_size: int = 500

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> SandboxConfig:
        env = os.environ if env is None else env
        pages = tuple(p.strip() for p in env.get("ML_WX_PAGES", "").split(",") if p.strip())
        reused = int(env.get("ML_SANDBOX_REUSED_CODE_ERRCODE", "40163"))
        image_format = env.get("ML_SANDBOX_IMAGE_FORMAT", "png")
        return cls(
            host=env.get("ML_SANDBOX_HOST", "127.0.0.1"),
            port=int(env.get("ML_SANDBOX_PORT", "8001")),
            appid=env.get("ML_WX_APPID", DEFAULT_APPID),
            secret=env.get("ML_WX_SECRET", DEFAULT_SECRET),
            app_name=env.get("ML_WX_APP_NAME", "MiniLogin"),
            open_platform_bound=_bool(env.get("ML_WX_OPEN_PLATFORM_BOUND", "true")),
            pages=pages or DEFAULT_PAGES,
            token_daily_quota=int(env.get("ML_SANDBOX_TOKEN_DAILY_QUOTA", "2000")),
            reused_code_errcode=40029 if reused == 40029 else 40163,
            image_format="jpeg" if image_format == "jpeg" else "png",
        )
