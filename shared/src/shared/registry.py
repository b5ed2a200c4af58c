"""Connections and apps: the operator's configuration, stored in MongoDB.

The account service owns writes (its admin API); qr-issuer and scan-gateway read through
`Registry`, which caches what it finds for a few seconds so the hot path rarely touches
MongoDB (an edit reaches other replicas within that time; something new is seen at once,
because misses are not cached).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from enum import StrEnum
from typing import Any

from cachetools import TTLCache
from pydantic import BaseModel, ConfigDict, Field, field_validator
from pymongo.asynchronous.database import AsyncDatabase

from shared.errors import AppError

CONNECTION_ID = re.compile(r"^[a-z0-9-]{1,31}$")
# MiniLogin's own client for the "Experience login" of a connection (its try link): a public
# client the account service registers, whose answers go to the account service itself.
# Every connection is enabled for it; the try link always names the one it tries.
TRY_CLIENT_ID = "minilogin-try"


class LoginMode(StrEnum):
    NORMAL = "normal"
    LOGIN_ONLY = "login_only"  # never creates accounts


class Association(StrEnum):
    OFF = "off"
    FIELD_MATCHING = "field_matching"  # bind to an existing account with the same phone
    ASK_BINDING = "ask_binding"  # ask the user to bind to an existing account


class QrKind(StrEnum):
    URL = "url"
    WXACODE = "wxacode"


class EnvVersion(StrEnum):
    RELEASE = "release"
    TRIAL = "trial"
    DEVELOP = "develop"


class FarAwayPolicy(StrEnum):
    """What scan-gateway does when the phone is known to be in another city or country than
    the PC asking to log in (a phished QR code, most likely). The phone warns in every case."""

    ALLOW = "allow"
    CONFIRM_TWICE = "confirm_twice"  # confirm must carry far_away_acknowledged
    REFUSE = "refuse"  # the scan (or confirm) is refused and the login cancelled


class Connection(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    display_name: str = Field(min_length=1, max_length=64)
    callback_url: str = Field(default="", max_length=2048)
    logo_png: bytes | None = None  # PNG shown in the QR centre and to the phone
    private: bool = False
    appid: str | None = None
    app_secret_sealed: str | None = None  # sealed with shared.crypto.SecretBox, never returned
    login_mode: LoginMode = LoginMode.NORMAL
    association: Association = Association.OFF
    qr_kind: QrKind = QrKind.URL
    page: str = "pages/login/login"
    env_version: EnvVersion = EnvVersion.RELEASE
    ticket_ttl: int = Field(default=120, ge=30, le=600)
    request_phone: bool = False
    require_phone: bool = False
    far_away: FarAwayPolicy = FarAwayPolicy.ALLOW
    apps: list[str] = Field(default_factory=list)
    created_at: float = 0.0
    updated_at: float = 0.0

    @field_validator("id")
    @classmethod
    def _id_shape(cls, v: str) -> str:
        if not CONNECTION_ID.match(v):
            raise ValueError("lowercase letters, digits and '-', under 32 characters")
        return v


class TokenEndpointAuth(StrEnum):
    """How an app authenticates at the token and revocation endpoints (RFC 7591 names)."""

    CLIENT_SECRET_BASIC = "client_secret_basic"  # confidential: basic or post, as ever
    CLIENT_SECRET_POST = "client_secret_post"
    NONE = "none"  # public (a single-page or native app): no secret, PKCE carries the proof


class App(BaseModel):
    model_config = ConfigDict(extra="forbid")

    client_id: str
    name: str
    # sha256 hex; the secret itself is shown once at creation. Empty for a public client.
    client_secret_hash: str
    redirect_uris: list[str]
    # Origins a popup may hand its result to with postMessage (exact match), and that may
    # call discovery, JWKS, token, userinfo and revocation from a browser (CORS).
    web_origins: list[str] = Field(default_factory=list)
    token_endpoint_auth_method: TokenEndpointAuth = TokenEndpointAuth.CLIENT_SECRET_BASIC
    # Opt-in: the token endpoint also issues a refresh token (rotated on each use).
    refresh_tokens: bool = False
    # Where RP-initiated logout may send the browser back to (exact match).
    post_logout_redirect_uris: list[str] = Field(default_factory=list)
    created_at: float = 0.0

    @property
    def public(self) -> bool:
        return self.token_endpoint_auth_method == TokenEndpointAuth.NONE


class UnknownClient(AppError):
    status = 400
    code = "unknown_client"
    message = "No app is registered with this client_id."


class UnknownConnection(AppError):
    status = 404
    code = "unknown_connection"
    message = "No such connection."


class Registry:
    def __init__(
        self,
        db: AsyncDatabase[dict[str, Any]],
        cache_seconds: float = 5.0,
        *,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        """`timer` measures the cache's expiry (tests pass a fake clock's `now`)."""
        self.connections = db["connections"]
        self.apps = db["apps"]
        # A few documents per deployment; the bound only guards against a flood of ids.
        self._connections: TTLCache[str, Connection] = TTLCache(10_000, cache_seconds, timer)
        self._apps: TTLCache[str, App] = TTLCache(10_000, cache_seconds, timer)
        self._app_connections: TTLCache[str, list[Connection]] = TTLCache(
            10_000, cache_seconds, timer
        )
        self._origins: TTLCache[str, bool] = TTLCache(10_000, cache_seconds, timer)

    async def ensure_indexes(self) -> None:
        await self.apps.create_index("client_id", unique=True)
        await self.apps.create_index("web_origins")

    def forget(self) -> None:
        for cache in (self._connections, self._apps, self._app_connections, self._origins):
            cache.clear()

    async def connection(self, connection_id: str) -> Connection:
        conn = self._connections.get(connection_id)
        if conn is None:
            doc = await self.connections.find_one({"_id": connection_id})
            if doc is None:
                raise UnknownConnection()
            conn = _connection(doc)
            self._connections[connection_id] = conn
        return conn

    async def app(self, client_id: str) -> App:
        app = self._apps.get(client_id)
        if app is None:
            doc = await self.apps.find_one({"client_id": client_id}, {"_id": 0})
            if doc is None:
                raise UnknownClient()
            app = App.model_validate(doc)
            self._apps[client_id] = app
        return app

    async def origin_registered(self, origin: str) -> bool:
        """Whether some app lists `origin` among its web origins (CORS for endpoints that
        no client identifies itself to: discovery, JWKS, a preflight)."""
        if origin in self._origins:
            return True
        found = await self.apps.find_one({"web_origins": origin}, {"_id": 1}) is not None
        if found:
            self._origins[origin] = True
        return found

    async def connections_for_app(self, client_id: str, *, fresh: bool = False) -> list[Connection]:
        """The app's connections. `fresh` skips the cache (a connection added a moment ago)."""
        cached = None if fresh else self._app_connections.get(client_id)
        if cached is not None:
            return cached
        query = {} if client_id == TRY_CLIENT_ID else {"apps": client_id}
        out = await self.all_connections(query)
        self._app_connections[client_id] = out
        return out

    async def all_connections(self, query: dict[str, Any] | None = None) -> list[Connection]:
        """Every connection matching `query`, by identifier, straight from MongoDB."""
        return [_connection(doc) async for doc in self.connections.find(query or {}).sort("_id", 1)]

    async def save_connection(self, conn: Connection) -> None:
        doc = conn.model_dump()
        doc["_id"] = doc.pop("id")
        await self.connections.replace_one({"_id": doc["_id"]}, doc, upsert=True)
        self.forget()

    async def save_app(self, app: App) -> None:
        await self.apps.replace_one({"client_id": app.client_id}, app.model_dump(), upsert=True)
        self.forget()


def _connection(doc: dict[str, Any]) -> Connection:
    """A stored document (keyed by `_id`) as a Connection."""
    doc["id"] = doc.pop("_id")
    return Connection.model_validate(doc)
