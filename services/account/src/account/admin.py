"""The operator's API: connections (the seed's configuration table) and apps."""

from __future__ import annotations

import asyncio
import base64
import binascii
import functools
import hmac
import ipaddress
import re
import unicodedata
from typing import Any, ClassVar, Literal, Self
from urllib.parse import urlsplit

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from account.context import ACCOUNT, Account
from account.try_login import try_url
from shared import ids, logs
from shared.errors import AppError, Conflict, Forbidden, InvalidRequest, NotFound, Unauthorized
from shared.images import BadPicture, clean_png
from shared.registry import (
    CONNECTION_ID,
    App,
    Association,
    Connection,
    EnvVersion,
    FarAwayPolicy,
    LoginMode,
    QrKind,
    TokenEndpointAuth,
    UnknownClient,
    UnknownConnection,
)
from shared.web import client_ip, read_json

log = logs.get(__name__)
routes = web.RouteTableDef()
APPID = r"^wx[0-9a-f]{16}$"
MAX_LOGO = 256 * 1024
# The logo is stored re-encoded at most this many pixels a side: phones show it at 48 pt
# and the QR code's centre is smaller still.
LOGO_SIZE = 256
ADMIN_FAILURES = "admin-token"  # the rate-limit bucket of wrong admin tokens, per IP


class PublicClient(AppError):
    status = 409
    code = "public_client"
    message = "This app is a public client (token_endpoint_auth_method none): it has no secret."


class ImmutableField(AppError):
    code = "immutable_field"
    message = "The connection's identifier cannot be changed."


async def _admin(request: web.Request) -> Account:
    acct = request.app[ACCOUNT]
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        raise Unauthorized("Send the admin token as 'Authorization: Bearer <token>'.")
    # Guessing the token: each attempt is counted before the comparison (concurrent guesses
    # cannot all pass under the limit), a right one is taken back, so only wrong ones add up.
    settings = acct.settings
    ip = client_ip(request, settings.trusted_proxy_hops)
    attempt = await acct.limiter.hit(
        ADMIN_FAILURES, ip, limit=settings.rate_admin_failures_per_ip, per=60
    )
    # Constant time: digests of equal length compared in full, so the time taken tells
    # neither how much of a guess was right nor how long the token is.
    token = settings.admin_token.get_secret_value()
    if not hmac.compare_digest(ids.sha256_hex(header[7:]), ids.sha256_hex(token)):
        log.warning("admin_token_wrong", ip=ip)
        raise Forbidden("The admin token is wrong.")
    await acct.limiter.refund(attempt)
    return acct


def _decode_logo(value: str | None) -> bytes | None:
    if value is None:
        return None
    prefix = "data:image/png;base64,"
    if not value.startswith(prefix):
        raise ValueError("logo must be a data:image/png;base64 URL")
    try:
        raw = base64.b64decode(value[len(prefix) :], validate=True)
    except binascii.Error as exc:
        raise ValueError("logo is not valid base64") from exc
    if not raw.startswith(b"\x89PNG\r\n\x1a\n") or len(raw) > MAX_LOGO:
        raise ValueError("logo must be a PNG of at most 256 KiB")
    return raw


class _NoNulls(BaseModel):
    """PATCH semantics: a field left out keeps its value; only `NULLABLE` may be set to null."""

    NULLABLE: ClassVar[frozenset[str]] = frozenset()

    @model_validator(mode="after")
    def _no_nulls(self) -> Self:
        for name in self.model_fields_set - self.NULLABLE:
            if getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self


class _ConnectionFields(_NoNulls):
    model_config = ConfigDict(extra="forbid")
    NULLABLE = frozenset({"logo", "appid"})

    display_name: str | None = Field(default=None, min_length=1, max_length=64)
    callback_url: str | None = Field(default=None, max_length=2048, pattern=r"^(https?://.+)?$")
    logo: str | None = Field(default=None, max_length=400_000)
    private: bool | None = None
    appid: str | None = Field(default=None, pattern=APPID)
    app_secret: str | None = Field(default=None, pattern=r"^[0-9a-f]{32}$")
    login_mode: LoginMode | None = None
    association: Association | None = None
    qr_kind: QrKind | None = None
    page: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_\-/]{1,128}$")
    env_version: EnvVersion | None = None
    ticket_ttl: int | None = Field(default=None, ge=30, le=600)
    request_phone: bool | None = None
    require_phone: bool | None = None
    far_away: FarAwayPolicy | None = None
    apps: list[str] | None = Field(default=None, max_length=100)

    @field_validator("logo")
    @classmethod
    def _logo(cls, v: str | None) -> str | None:
        _decode_logo(v)
        return v

    @field_validator("page")
    @classmethod
    def _page(cls, v: str | None) -> str | None:
        if v is not None and v.startswith("/"):
            raise ValueError("page has no leading '/' (WeChat refuses it)")
        return v


class ConnectionCreate(_ConnectionFields):
    id: str = Field(pattern=CONNECTION_ID.pattern)
    display_name: str = Field(min_length=1, max_length=64)


class ConnectionPatch(_ConnectionFields):
    id: str | None = None


def _connection_out(conn: Connection, issuer: str) -> dict[str, Any]:
    body = conn.model_dump(mode="json", exclude={"logo_png", "app_secret_sealed"})
    body["has_logo"] = conn.logo_png is not None
    body["app_secret_set"] = conn.app_secret_sealed is not None  # the secret never leaves
    # The seed's "Experience login": log in through this connection; a success lands on
    # callback_url.
    body["try_url"] = try_url(issuer, conn.id)
    return body


async def _clean_logo(raw: bytes | None) -> bytes | None:
    """The logo decoded in full (within shared.images' size limits) and re-encoded as a clean
    PNG, as avatars are: phones and the QR renderer only ever get pixels we wrote. In a
    thread: a large picture is a quarter of a second of CPU."""
    if raw is None:
        return None
    clean = functools.partial(clean_png, raw, what="The logo", fit=LOGO_SIZE, formats=("PNG",))
    try:
        return await asyncio.get_running_loop().run_in_executor(None, clean)
    except BadPicture as exc:
        problem = exc.detail_message
        raise InvalidRequest(
            f"logo: {problem}", details=[{"field": "logo", "problem": problem}]
        ) from exc


async def _apply(acct: Account, conn: Connection, fields: _ConnectionFields) -> Connection:
    data = fields.model_dump(exclude_unset=True, exclude={"id", "logo", "app_secret"})
    updated = conn.model_copy(update=data)
    if "logo" in fields.model_fields_set:
        updated.logo_png = await _clean_logo(_decode_logo(fields.logo))
    if fields.app_secret is not None:
        updated.app_secret_sealed = acct.box.seal(fields.app_secret)
    if updated.private and not (updated.appid and updated.app_secret_sealed):
        raise AppError("A private deployment needs its own appid and app_secret.")
    for client_id in updated.apps:
        await acct.registry.app(client_id)  # every associated app must exist
    updated.updated_at = acct.clock.now()
    return Connection.model_validate(updated.model_dump())


@routes.post("/admin/v1/connections")
async def create_connection(request: web.Request) -> web.Response:
    acct = await _admin(request)
    body = await read_json(request, ConnectionCreate)
    if await acct.registry.connections.find_one({"_id": body.id}, {"_id": 1}):
        raise Conflict(f"A connection named {body.id!r} already exists.")
    now = acct.clock.now()
    # ML_TICKET_TTL is the lifetime of a new connection's tickets unless the request says.
    start = Connection(
        id=body.id,
        display_name=body.display_name,
        created_at=now,
        ticket_ttl=acct.settings.ticket_ttl,
    )
    conn = await _apply(acct, start, body)
    await acct.registry.save_connection(conn)
    log.info("connection_created", connection_id=conn.id)
    return web.json_response(_connection_out(conn, acct.settings.issuer), status=201)


@routes.get("/admin/v1/connections")
async def list_connections(request: web.Request) -> web.Response:
    acct = await _admin(request)
    out = [
        _connection_out(conn, acct.settings.issuer)
        for conn in await acct.registry.all_connections()
    ]
    return web.json_response({"connections": out})


@routes.get("/admin/v1/connections/{id}")
async def get_connection(request: web.Request) -> web.Response:
    acct = await _admin(request)
    acct.registry.forget()
    return web.json_response(
        _connection_out(
            await acct.registry.connection(request.match_info["id"]), acct.settings.issuer
        )
    )


@routes.patch("/admin/v1/connections/{id}")
async def patch_connection(request: web.Request) -> web.Response:
    acct = await _admin(request)
    body = await read_json(request, ConnectionPatch)
    if body.id is not None and body.id != request.match_info["id"]:
        raise ImmutableField()
    acct.registry.forget()
    conn = await _apply(acct, await acct.registry.connection(request.match_info["id"]), body)
    await acct.registry.save_connection(conn)
    log.info("connection_updated", connection_id=conn.id)
    return web.json_response(_connection_out(conn, acct.settings.issuer))


@routes.delete("/admin/v1/connections/{id}")
async def delete_connection(request: web.Request) -> web.Response:
    acct = await _admin(request)
    result = await acct.registry.connections.delete_one({"_id": request.match_info["id"]})
    if result.deleted_count == 0:
        raise UnknownConnection()
    acct.registry.forget()
    return web.Response(status=204)


LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
# A DNS name in ASCII (an internationalised one in its xn-- form): dot-separated labels of
# letters, digits and inner hyphens, 63 characters at most each.
_DNS_NAME = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))*\.?$")


def _valid_host(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return len(host) <= 253 and bool(_DNS_NAME.match(host))
    return True


def _redirect_ok(uri: str) -> bool:
    """An absolute URL the browser will be sent to exactly as registered: https anywhere,
    plain http only on loopback (development); a valid host and port, no user, fragment,
    wildcard, white space or control character (urlsplit would drop a newline silently)."""
    if any(ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf") for ch in uri):
        return False
    if "#" in uri or "*" in uri:
        return False
    try:
        parts = urlsplit(uri)
        port = parts.port  # a port that is not a number in 0-65535 raises here
    except ValueError:  # e.g. "https://[" (an unclosed IPv6 literal)
        return False
    host = parts.hostname
    if not host or not _valid_host(host) or port == 0:
        return False
    if parts.username is not None or parts.password is not None:
        return False
    if parts.scheme == "http":
        return host in LOOPBACK_HOSTS
    return parts.scheme == "https"


def _origin_ok(origin: str) -> bool:
    """An origin as a browser sends it in Origin (compared exactly): `scheme://host[:port]`,
    lower case, without the scheme's default port or a trailing slash."""
    if not _redirect_ok(origin):
        return False
    parts = urlsplit(origin)
    default = {"http": 80, "https": 443}[parts.scheme]
    host = parts.hostname or ""
    shown = f"[{host}]" if ":" in host else host
    port = "" if parts.port in (None, default) else f":{parts.port}"
    return origin == f"{parts.scheme}://{shown}{port}"


class AppFields(_NoNulls):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, min_length=1, max_length=64)
    redirect_uris: list[str] | None = Field(default=None, min_length=1, max_length=20)
    web_origins: list[str] | None = Field(default=None, max_length=20)
    refresh_tokens: bool | None = None
    post_logout_redirect_uris: list[str] | None = Field(default=None, max_length=20)

    @field_validator("redirect_uris", "post_logout_redirect_uris")
    @classmethod
    def _uris(cls, v: list[str] | None) -> list[str] | None:
        for uri in v or []:
            if not _redirect_ok(uri):
                raise ValueError(
                    f"{uri!r} is not an allowed redirect URI (an absolute https URL, or "
                    "http on loopback, with a valid host and port; no user, fragment, "
                    "wildcard or white space)"
                )
        return v

    @field_validator("web_origins")
    @classmethod
    def _origins(cls, v: list[str] | None) -> list[str] | None:
        for origin in v or []:
            if not _origin_ok(origin):
                raise ValueError(
                    f"{origin!r} is not an origin as browsers send it: scheme://host[:port] "
                    "in lower case (https, or http on loopback), no default port, path or "
                    "trailing slash"
                )
        return v


class AppCreate(AppFields):
    client_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{3,64}$")
    name: str = Field(min_length=1, max_length=64)
    redirect_uris: list[str] = Field(min_length=1, max_length=20)
    connections: list[str] = Field(default_factory=list, max_length=20)
    # Fixed at creation: a public client (none) gets no secret, a confidential one does.
    token_endpoint_auth_method: TokenEndpointAuth = TokenEndpointAuth.CLIENT_SECRET_BASIC


def _app_out(app: App) -> dict[str, Any]:
    return app.model_dump(exclude={"client_secret_hash"})


@routes.post("/admin/v1/apps")
async def create_app(request: web.Request) -> web.Response:
    acct = await _admin(request)
    body = await read_json(request, AppCreate)
    client_id = body.client_id or ids.random_base62(20)
    if await acct.registry.apps.find_one({"client_id": client_id}, {"_id": 1}):
        raise Conflict(f"An app with client_id {client_id!r} already exists.")
    conns = [await acct.registry.connection(c) for c in body.connections]
    public = body.token_endpoint_auth_method == TokenEndpointAuth.NONE
    secret = None if public else ids.secret_token()
    app = App(
        client_id=client_id,
        name=body.name,
        client_secret_hash=ids.sha256_hex(secret) if secret else "",
        redirect_uris=body.redirect_uris,
        web_origins=body.web_origins or [],
        token_endpoint_auth_method=body.token_endpoint_auth_method,
        refresh_tokens=bool(body.refresh_tokens),
        post_logout_redirect_uris=body.post_logout_redirect_uris or [],
        created_at=acct.clock.now(),
    )
    await acct.registry.save_app(app)
    for conn in conns:
        if client_id not in conn.apps:
            await acct.registry.save_connection(
                conn.model_copy(update={"apps": [*conn.apps, client_id]})
            )
    log.info("app_created", client_id=client_id)
    # The secret is shown once, here; only its hash is stored. A public client has none.
    out = _app_out(app) if secret is None else {**_app_out(app), "client_secret": secret}
    return web.json_response(out, status=201)


@routes.get("/admin/v1/apps")
async def list_apps(request: web.Request) -> web.Response:
    acct = await _admin(request)
    out = [
        _app_out(App.model_validate(d))
        async for d in acct.registry.apps.find({}, {"_id": 0}).sort("client_id", 1)
    ]
    return web.json_response({"apps": out})


@routes.get("/admin/v1/apps/{client_id}")
async def get_app(request: web.Request) -> web.Response:
    acct = await _admin(request)
    acct.registry.forget()
    try:
        return web.json_response(_app_out(await acct.registry.app(request.match_info["client_id"])))
    except UnknownClient as exc:
        raise NotFound("No such app.") from exc


@routes.patch("/admin/v1/apps/{client_id}")
async def patch_app(request: web.Request) -> web.Response:
    acct = await _admin(request)
    body = await read_json(request, AppFields)
    acct.registry.forget()
    try:
        app = await acct.registry.app(request.match_info["client_id"])
    except UnknownClient as exc:
        raise NotFound("No such app.") from exc
    app = app.model_copy(update=body.model_dump(exclude_unset=True))
    await acct.registry.save_app(app)
    return web.json_response(_app_out(app))


@routes.post("/admin/v1/apps/{client_id}/secret")
async def rotate_secret(request: web.Request) -> web.Response:
    acct = await _admin(request)
    acct.registry.forget()
    try:
        app = await acct.registry.app(request.match_info["client_id"])
    except UnknownClient as exc:
        raise NotFound("No such app.") from exc
    if app.public:
        raise PublicClient()
    secret = ids.secret_token()
    await acct.registry.save_app(
        app.model_copy(update={"client_secret_hash": ids.sha256_hex(secret)})
    )
    log.info("app_secret_rotated", client_id=app.client_id)
    return web.json_response({"client_id": app.client_id, "client_secret": secret})


@routes.delete("/admin/v1/apps/{client_id}")
async def delete_app(request: web.Request) -> web.Response:
    acct = await _admin(request)
    cid = request.match_info["client_id"]
    result = await acct.registry.apps.delete_one({"client_id": cid})
    if result.deleted_count == 0:
        raise NotFound("No such app.")
    await acct.registry.connections.update_many({"apps": cid}, {"$pull": {"apps": cid}})
    acct.registry.forget()
    return web.Response(status=204)


__all__: list[Literal["routes"]] = ["routes"]
