"""The authorization request /login receives (OpenID Connect Core 3.1.2, OAuth 2.1, RFC 9207),
read from the query string and checked in the order the specs fix.

Until client_id and redirect_uri are known good nothing may be sent to redirect_uri (an open
redirector otherwise), so those faults stay on our page (`UnusableRequest`); every later one
goes back to the site as an OAuth error with state and iss (`AuthorizationError`)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any, Literal
from urllib.parse import urlencode, urlsplit, urlunsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from shared.registry import TRY_CLIENT_ID, App, Connection, Registry, UnknownClient

# The query string: each parameter with every value it was given, in order.
Query = Mapping[str, list[str]]
# RFC 6749 section 3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
_SCOPE_TOKEN = re.compile(r"[\x21\x23-\x5B\x5D-\x7E]+")
PROMPTS = ("none", "login", "consent", "select_account")
STATE_MAX = 512
# What error_description may hold (RFC 6749 section 4.1.2.1): printable ASCII but " and \.
_NOT_DESCRIPTION = re.compile(r"[^\x20\x21\x23-\x5B\x5D-\x7E]")


def _scope(value: str) -> str:
    tokens = value.split(" ")
    if not all(_SCOPE_TOKEN.fullmatch(t) for t in tokens):
        raise ValueError("scope is a list of scope values separated by single spaces")
    if "openid" not in tokens:
        raise ValueError("scope must include openid")
    return " ".join(dict.fromkeys(tokens))  # each once, in the site's order


def _prompt(value: str) -> str:
    tokens = value.split()
    if any(t not in PROMPTS for t in tokens):
        raise ValueError(f"prompt takes {', '.join(PROMPTS)}")
    if "none" in tokens and len(tokens) > 1:
        raise ValueError("prompt=none cannot be combined with other values")
    return " ".join(dict.fromkeys(tokens))


# Shared with the ticket API, so a ticket made by either path holds the same values.
Scope = Annotated[str, Field(min_length=1, max_length=512), AfterValidator(_scope)]
Prompt = Annotated[str, Field(max_length=64), AfterValidator(_prompt)]


class UnusableRequest(Exception):
    """client_id or redirect_uri is missing, unknown or repeated: the page explains it to the
    person; nothing goes to the site."""

    def __init__(self, reason: Literal["client_id", "redirect_uri"]) -> None:
        self.reason = reason
        super().__init__(reason)


class ResponseMode(StrEnum):
    QUERY = "query"
    WEB_MESSAGE = "web_message"


@dataclass(frozen=True)
class ReplyTo:
    """Where and how the answer goes: redirect_uri's query, or a message to the window that
    opened us at redirect_uri's exact origin, with the site's state and our issuer."""

    redirect_uri: str
    response_mode: ResponseMode
    state: str
    issuer: str

    def params(self, **answer: str) -> dict[str, str]:
        out = dict(answer)
        if self.state:
            out["state"] = self.state
        out["iss"] = self.issuer  # RFC 9207: every answer names who sent it
        return out

    def url(self, **answer: str) -> str:
        parts = urlsplit(self.redirect_uri)
        query = "&".join(q for q in (parts.query, urlencode(self.params(**answer))) if q)
        return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))

    @property
    def origin(self) -> str:
        parts = urlsplit(self.redirect_uri)
        return f"{parts.scheme}://{parts.netloc}"


class AuthorizationError(Exception):
    """An OAuth error for the site (RFC 6749 section 4.1.2.1)."""

    def __init__(self, reply_to: ReplyTo, error: str, description: str) -> None:
        self.reply_to = reply_to
        self.error = error
        self.description = describable(description)
        super().__init__(f"{error}: {description}")

    def answer(self) -> dict[str, str]:
        return self.reply_to.params(error=self.error, error_description=self.description)


def describable(text: str) -> str:
    """`text` with what error_description may not hold dropped."""
    return _NOT_DESCRIPTION.sub("", text)[:300]


class _QueryModel(BaseModel):
    """Everything after client_id, redirect_uri, state and response_mode, in the order the
    faults are reported."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    scope: Scope
    code_challenge: str = Field(pattern=r"^[A-Za-z0-9_-]{43}$")
    code_challenge_method: Literal["S256"]
    nonce: str = Field(default="", max_length=256)
    prompt: Prompt = ""
    max_age: int | None = Field(default=None, ge=0, le=10**9)
    connection: str | None = Field(default=None, min_length=1, max_length=31)
    ui_locales: str = Field(default="", max_length=128)


# What the site is told for a fault in each field: (error, error_description).
_FIELD_ERRORS = {
    "scope": ("invalid_scope", "scope must be space-separated scope values including openid."),
    "code_challenge": (
        "invalid_request",
        "PKCE is required: code_challenge is BASE64URL(SHA-256(code_verifier)), 43 characters.",
    ),
    "code_challenge_method": ("invalid_request", "code_challenge_method must be S256."),
    "nonce": ("invalid_request", "nonce is longer than 256 characters."),
    "prompt": (
        "invalid_request",
        "prompt takes none, login, consent or select_account, and none stands alone.",
    ),
    "max_age": ("invalid_request", "max_age must be a whole number of seconds."),
    "connection": ("invalid_request", "connection is not a connection identifier."),
    "ui_locales": ("invalid_request", "ui_locales is longer than 128 characters."),
}
# Parameters we read, each of which may be given once (RFC 6749 section 3.1).
_SINGLE = (
    "client_id", "redirect_uri", "state", "response_mode", "mode", "response_type",
    *_QueryModel.model_fields,
)  # fmt: skip
# OIDC Core section 6: request objects are optional, and we say so in their own codes.
_NOT_SUPPORTED = {
    "request": "request_not_supported",
    "request_uri": "request_uri_not_supported",
    "registration": "registration_not_supported",
}


@dataclass(frozen=True)
class AuthorizationRequest:
    app: App
    # None when the request names no connection and the app has several: the person
    # chooses one of `choices` (one is never picked for them).
    connection: Connection | None
    reply_to: ReplyTo
    scope: str
    code_challenge: str
    nonce: str
    prompt: str
    max_age: int | None
    ui_locales: str
    choices: tuple[Connection, ...] = ()

    def ticket_request(self) -> dict[str, Any]:
        """The body the page sends to POST /api/v1/tickets."""
        assert self.connection is not None, "a connection is chosen first"
        body: dict[str, Any] = {
            "client_id": self.app.client_id,
            "redirect_uri": self.reply_to.redirect_uri,
            "response_mode": self.reply_to.response_mode.value,
            "state": self.reply_to.state,
            "nonce": self.nonce,
            "scope": self.scope,
            "prompt": self.prompt,
            "code_challenge": self.code_challenge,
            "code_challenge_method": "S256",
            "connection": self.connection.id,
        }
        if self.max_age is not None:
            body["max_age"] = self.max_age
        return body


def _one(query: Query, name: str) -> str | None:
    values = query.get(name, [])
    return values[0] if len(values) == 1 else None


async def _app(query: Query, registry: Registry) -> App:
    client_id = _one(query, "client_id")
    if not client_id or len(client_id) > 128:
        raise UnusableRequest("client_id")
    try:
        return await registry.app(client_id)
    except UnknownClient as exc:
        raise UnusableRequest("client_id") from exc


def _reply_to(query: Query, app: App, issuer: str) -> ReplyTo:
    redirect_uri = _one(query, "redirect_uri")
    if redirect_uri is None or redirect_uri not in app.redirect_uris:
        raise UnusableRequest("redirect_uri")
    state = _one(query, "state") or ""
    mode = _one(query, "response_mode")
    if mode is None and _one(query, "mode") == "popup":
        mode = ResponseMode.WEB_MESSAGE.value  # the name before web_message
    reply_to = ReplyTo(
        redirect_uri,
        ResponseMode(mode) if mode in set(ResponseMode) else ResponseMode.QUERY,
        state if len(state) <= STATE_MAX else "",
        issuer,
    )
    if len(state) > STATE_MAX:
        raise AuthorizationError(reply_to, "invalid_request", "state is over 512 characters.")
    if mode is not None and mode not in set(ResponseMode):
        raise AuthorizationError(
            reply_to, "invalid_request", "response_mode must be query or web_message."
        )
    return reply_to


async def _connection(
    registry: Registry, app: App, wanted: str | None, reply_to: ReplyTo
) -> tuple[Connection | None, tuple[Connection, ...]]:
    """The connection the request names, or the app's only one; with several and none
    named, none and the choices."""
    if wanted is None and app.client_id == TRY_CLIENT_ID:
        # Every connection is the try client's: it must name one (its list is not shown).
        raise AuthorizationError(reply_to, "invalid_request", "connection is required.")
    conns = await registry.connections_for_app(app.client_id)
    if wanted is None:
        if len(conns) > 1:
            return None, tuple(conns)
        if conns:
            return conns[0], ()
        raise AuthorizationError(
            reply_to, "unauthorized_client", "No login connection is enabled for this client."
        )
    conn = next((c for c in conns if c.id == wanted), None)
    if conn is None:  # perhaps enabled a moment ago
        fresh = await registry.connections_for_app(app.client_id, fresh=True)
        conn = next((c for c in fresh if c.id == wanted), None)
    if conn is None:
        raise AuthorizationError(
            reply_to, "invalid_request", f"connection {wanted} is not enabled for this client."
        )
    return conn, ()


async def read_authorization_request(
    query: Query, registry: Registry, issuer: str
) -> AuthorizationRequest:
    """The request in `query`, checked; raises UnusableRequest or AuthorizationError."""
    app = await _app(query, registry)
    reply_to = _reply_to(query, app, issuer)

    def fault(error: str, description: str) -> AuthorizationError:
        return AuthorizationError(reply_to, error, description)

    repeated = [name for name in _SINGLE if len(query.get(name, [])) > 1]
    if repeated:
        raise fault("invalid_request", f"{repeated[0]} was given more than once.")
    response_type = _one(query, "response_type")
    if not response_type:
        raise fault("invalid_request", "response_type is required.")
    if response_type != "code":
        raise fault("unsupported_response_type", "Only response_type=code is supported.")
    for name, error in _NOT_SUPPORTED.items():
        if name in query:
            raise fault(error, f"The {name} parameter is not supported.")
    try:
        given = {k: query[k][0] for k in _QueryModel.model_fields if k in query}
        checked = _QueryModel.model_validate(given)
    except ValidationError as exc:
        raise fault(*_FIELD_ERRORS[str(exc.errors()[0]["loc"][0])]) from exc
    if checked.prompt == "none":
        # Nobody is ever signed in here already: each login is a new scan.
        raise fault("login_required", "prompt=none: the user must scan the QR code to log in.")
    conn, choices = await _connection(registry, app, checked.connection, reply_to)
    return AuthorizationRequest(
        app=app,
        connection=conn,
        choices=choices,
        reply_to=reply_to,
        scope=checked.scope,
        code_challenge=checked.code_challenge,
        nonce=checked.nonce,
        prompt=checked.prompt,
        max_age=checked.max_age,
        ui_locales=checked.ui_locales,
    )
