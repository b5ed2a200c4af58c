"""Access tokens: the /cgi-bin/token pool and the separate /cgi-bin/stable_token pool."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from typing import Literal

from wechat_sandbox.wxerrors import WxError

Pool = Literal["token", "stable"]

_TOKEN_SHAPE = re.compile(r"^\d{2}_[A-Za-z0-9_-]{20,509}$")


def new_token_value() -> str:
    """`NN_` and ~150 URL-safe characters, like the real ones."""
    return f"{secrets.randbelow(90) + 10}_{secrets.token_urlsafe(112)}"


@dataclass(slots=True)
class Token:
    value: str = field(repr=False)
    appid: str
    pool: Pool
    issued_at: float
    expires_at: float
    # Set when a newer token supersedes this one: it then dies at this time.
    dies_at: float | None = None

    def errcode_at(self, now: float) -> int:
        """0 when usable, else 40001 (superseded) or 42001 (expired)."""
        if self.dies_at is not None and now >= self.dies_at:
            return 40001
        if now >= self.expires_at:
            return 42001
        return 0


@dataclass(slots=True)
class StableState:
    current: Token | None = None
    last_forced_at: float | None = None


class TokenBook:
    """Every token ever issued (until reset), and which one is current per app and pool."""

    def __init__(self) -> None:
        self._by_value: dict[str, Token] = {}
        self._current: dict[str, Token] = {}
        self._stable: dict[str, StableState] = {}

    def clear(self) -> None:
        self._by_value.clear()
        self._current.clear()
        self._stable.clear()

    def issue(self, appid: str, now: float, expires_in: int, grace: int) -> Token:
        """/cgi-bin/token: always a new token; the previous one lives `grace` seconds more."""
        previous = self._current.get(appid)
        if previous is not None and previous.dies_at is None:
            previous.dies_at = now + grace
        token = self._mint(appid, "token", now, expires_in)
        self._current[appid] = token
        return token

    def stable(
        self, appid: str, now: float, expires_in: int, grace: int, *, force: bool, min_interval: int
    ) -> tuple[Token, bool]:
        """/cgi-bin/stable_token: the current token, rotated near expiry or when forced.

        Returns the token and whether this call was a forced rotation (for the daily count).
        """
        state = self._stable.setdefault(appid, StableState())
        current = state.current
        usable = current is not None and current.errcode_at(now) == 0
        last_forced = state.last_forced_at
        if force and usable and last_forced is not None and now - last_forced < min_interval:
            # Forced calls closer than 30 s apart do not rotate ([unconfirmed]: current token).
            assert current is not None
            return current, False
        if force or not usable or (current is not None and current.expires_at - now < grace):
            if current is not None and current.dies_at is None:
                # A forced refresh kills the old token at once; a natural rotation keeps it a while.
                current.dies_at = now if force else min(current.expires_at, now + grace)
            current = self._mint(appid, "stable", now, expires_in)
            state.current = current
            if force:
                state.last_forced_at = now
            return current, force
        assert current is not None
        return current, False

    def check(self, value: str | None, now: float) -> Token:
        """The token behind an access_token parameter, or the errcode WeChat would answer."""
        if not value:
            raise WxError(41001)
        if not _TOKEN_SHAPE.match(value):
            raise WxError(40014)
        token = self._by_value.get(value)
        if token is None:
            raise WxError(40001)
        errcode = token.errcode_at(now)
        if errcode:
            raise WxError(errcode)
        return token

    def _mint(self, appid: str, pool: Pool, now: float, expires_in: int) -> Token:
        token = Token(new_token_value(), appid, pool, now, now + expires_in)
        self._by_value[token.value] = token
        return token
