"""Settings per service, parsed once from `ML_*` environment variables into frozen values.

Each service declares only what it uses (`qr_issuer.settings.QrIssuerSettings` and so on),
built from the pieces here: `ServiceSettings` (what every service process needs: Redis, the
bus, its socket, logging) and mixins for MongoDB, the public origin, the WeChat API, the
sealing key and reverse proxies. Secrets are `SecretStr`, never shown in repr, str or logs;
a service that does not declare one never reads it, and deploy/ gives it only its own.

`SomeSettings(field=value)` takes the given values and the defaults, never the environment
(tests and code that build settings stay deterministic); `SomeSettings.from_env()` reads the
environment. Every variable is documented in `deploy/minilogin.env.example`. The `memory://`
URLs select the embedded default (in-memory bus, fakeredis) used by `make run`.

The built-in secrets are public (they are in this repository), and so are the example file's
placeholders: a service refuses them unless `ML_ENV=development` says it is not production
(`make run` and the tests say so; deploy/ never does).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from typing import Annotated, Any, Literal, Self, get_args

from cryptography.fernet import Fernet
from pydantic import (
    AliasChoices,
    BeforeValidator,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, EnvSettingsSource, SettingsConfigDict
from pydantic_settings import PydanticBaseSettingsSource as Source

from shared.bus.base import RETRY_DELAYS

PREFIX = "ML_"

# Development-only defaults; `deploy/` production profiles must override them.
DEV_SECRET_KEY = "bWluaWxvZ2luLWRldi1vbmx5LWtleS0zMi1ieXRlcyE="
DEV_WX_APPID = "wx5eb1d2c3a4f60789"
DEV_WX_SECRET = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
DEV_ADMIN_TOKEN = "dev-admin-token"

# Where Prometheus scrapes a service unless ML_METRICS_PORT says otherwise. (9100, the
# usual pick, is the node exporter's, often running on the same machine.)
METRICS_PORT = 9464

# `deploy/minilogin.env.example` marks every value the operator must replace with this, and
# shows these two as placeholders.
PLACEHOLDER = "CHANGE-ME"
EXAMPLE_WX_APPID = "wx0000000000000000"
EXAMPLE_PUBLIC_URL = "https://login.example.com"

# Values anyone can read in this repository -> what they are. Outside development a service
# refuses to start with one of them in any setting.
PUBLIC_VALUES = {
    DEV_SECRET_KEY: "the built-in development secret key",
    DEV_WX_SECRET: "the built-in development AppSecret (the WeChat sandbox's)",
    DEV_ADMIN_TOKEN: "the built-in development admin token",
    DEV_WX_APPID: "the WeChat sandbox's AppID",
    EXAMPLE_WX_APPID: "the example file's placeholder AppID",
    EXAMPLE_PUBLIC_URL: "the example file's placeholder origin",
}


class InvalidSettings(ValueError):
    """The environment holds a value a service cannot start with; says which variable."""


class _Marker:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


# Field metadata: the variable is a comma-separated list (not JSON, pydantic-settings'
# reading of a tuple); the variable names a file that holds a secret (a private key).
COMMA_SEPARATED = _Marker("COMMA_SEPARATED")
SECRET_FILE = _Marker("SECRET_FILE")

_YES = frozenset({"1", "true", "yes", "on"})
_NO = frozenset({"", "0", "false", "no", "off"})


def _split_commas(value: object) -> object:
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    return value


def _flag(value: object) -> object:
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _YES | _NO:
            return word in _YES
        raise ValueError("expected 1, true, yes or on; or 0, false, no, off or empty")
    return value


# An on/off variable: empty means off, as an unset one does.
Flag = Annotated[bool, BeforeValidator(_flag)]
SecretList = Annotated[tuple[SecretStr, ...], COMMA_SEPARATED, BeforeValidator(_split_commas)]
# Field metadata: outside development the setting may not be left empty.
REQUIRED_IN_PRODUCTION = _Marker("REQUIRED_IN_PRODUCTION")
# Delays in seconds, comma-separated: each above 0 and at most an hour, one to ten of them.
RetryDelays = Annotated[
    tuple[Annotated[float, Field(gt=0, le=3600)], ...],
    COMMA_SEPARATED,
    BeforeValidator(_split_commas),
    Field(min_length=1, max_length=10),
]
# A path to a file holding a secret, and a comma-separated list of such paths.
SecretFile = Annotated[str, SECRET_FILE]
SecretFiles = Annotated[
    tuple[str, ...], COMMA_SEPARATED, SECRET_FILE, BeforeValidator(_split_commas)
]

# The environment `from_env` reads, for the duration of one construction.
_ENV: ContextVar[Mapping[str, str] | None] = ContextVar("settings_env", default=None)


class _Environment(EnvSettingsSource):
    """The environment source over a given mapping (`os.environ` or a test's dict)."""

    def __init__(self, settings_cls: type[BaseSettings], env: Mapping[str, str]) -> None:
        super().__init__(settings_cls)
        # Matched without regard to case, as pydantic-settings does by default.
        self.env_vars = {k.lower(): v for k, v in env.items()}

    def prepare_field_value(
        self, field_name: str, field: FieldInfo, value: Any, value_is_complex: bool
    ) -> Any:
        if COMMA_SEPARATED in field.metadata:
            return value  # the field's own validator splits it
        return super().prepare_field_value(field_name, field, value, value_is_complex)


class _Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=PREFIX, frozen=True, extra="forbid", populate_by_name=True
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: Source,
        env_settings: Source,
        dotenv_settings: Source,
        file_secret_settings: Source,
    ) -> tuple[Source, ...]:
        env = _ENV.get()
        if env is None:
            return (init_settings,)
        return (init_settings, _Environment(settings_cls, env))

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Self:
        """Settings from `env` (default: the process environment); `overrides` win over it.

        Raises InvalidSettings naming each bad variable (never a secret's value)."""
        token = _ENV.set(os.environ if env is None else env)
        try:
            return cls(**overrides)
        except ValidationError as exc:
            # `from None`: pydantic's own message repeats the input, a secret's too.
            raise InvalidSettings(_describe(cls, exc)) from None
        finally:
            _ENV.reset(token)


def env_names(cls: type[BaseSettings], field: str) -> tuple[str, ...]:
    """The variables a field is read from, the one deploy/ sets first."""
    alias = cls.model_fields[field].validation_alias
    if isinstance(alias, AliasChoices):
        return tuple(str(choice) for choice in alias.choices)
    if isinstance(alias, str):
        return (alias,)
    return (f"{PREFIX}{field.upper()}",)


def variables(cls: type[BaseSettings]) -> dict[str, str]:
    """Each variable a settings class reads (its first name) -> its field."""
    return {env_names(cls, name)[0]: name for name in cls.model_fields}


def _is_secret(field: FieldInfo) -> bool:
    def mentions(tp: object) -> bool:
        return tp is SecretStr or any(mentions(arg) for arg in get_args(tp))

    return SECRET_FILE in field.metadata or mentions(field.annotation)


def secret_variables(cls: type[BaseSettings], *, aliases: bool = False) -> set[str]:
    """The variables of a class that carry a secret or name a file holding one (by their
    first name; every name with `aliases`)."""
    return {
        var
        for name, field in cls.model_fields.items()
        if _is_secret(field)
        for var in env_names(cls, name)[: None if aliases else 1]
    }


def _describe(cls: type[BaseSettings], exc: ValidationError) -> str:
    def lines() -> Iterator[str]:
        for err in exc.errors():
            if not err["loc"]:  # a whole-model check: its lines already name the variables
                yield from err["msg"].removeprefix("Value error, ").splitlines()
                continue
            name = str(err["loc"][0])
            field = cls.model_fields.get(name)
            if field is None:  # an unknown keyword, or a field reached by its alias
                yield f"{name}: {err['msg'].removeprefix('Value error, ')}"
                continue
            var = env_names(cls, name)[0]
            shown = "" if _is_secret(field) else f"={err['input']!r}"
            yield f"{var}{shown}: {err['msg'].removeprefix('Value error, ')}"

    return f"invalid {cls.__name__}:\n  " + "\n  ".join(lines())


# --- What every service has ------------------------------------------------------------


class ServiceSettings(_Settings):
    """What every service process needs: Redis, the bus, its socket, its logging."""

    # Connection URLs carry the servers' passwords.
    redis_url: SecretStr = SecretStr("redis://127.0.0.1:6379/0")
    # Seconds Redis may take to accept a connection or to answer a command; past that the
    # request gets 503 temporarily_unavailable instead of waiting on a paused or unreachable
    # server (redis-py's default is 5 s). Redis answers in well under a millisecond.
    redis_timeout: float = Field(2.0, gt=0)
    amqp_url: SecretStr = SecretStr("amqp://guest:guest@127.0.0.1:5672/")
    # RabbitMQ work queues: "quorum" (replicated, for a broker cluster) or "classic" (one
    # broker node: no fsync before delivery, 0.3 to 3.4 ms faster per hop here).
    bus_queue_type: Literal["quorum", "classic"] = "quorum"
    # Seconds between attempts to reconnect to RabbitMQ once the connection drops (the first
    # is at once): a broker that comes back is used again within about this long.
    bus_reconnect_seconds: float = Field(1.0, gt=0)
    # Seconds a failed delivery waits before each retry, in turn; after the last it goes to
    # its queue's `.dead` queue. Each delay is a queue of its own (`<ns>.retry.<ms>`): a
    # changed list leaves the old ones behind, to be deleted once empty.
    bus_retry_delays: RetryDelays = RETRY_DELAYS
    # Namespace for Redis keys, the exchange and queues: lets tests and tenants share servers.
    namespace: str = "ml"
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    # Prometheus scrapes /internal/<service>/metrics on a listener of its own, which no
    # ingress routes to; outside development the public port answers 404 for it. Unset, the
    # port is METRICS_PORT, except in development: there the public port serves metrics too
    # and no listener opens (several services on one machine would want the same port).
    metrics_port: int | None = Field(None, ge=1, le=65535)
    # The interface the metrics listener binds; empty: ML_HOST's.
    metrics_host: str = ""
    # Processes of this service sharing the port; scale pods first, this is for one big box.
    workers: int = 1
    # Requests one process works on at once before it answers 503 "overloaded" (0: no limit).
    max_in_flight: int = Field(256, ge=0)
    log_level: str = "INFO"
    log_json: Flag = True
    # "development" lets the process start on the built-in (public) secrets: `make run`, the
    # tests, a developer's machine. Any deployment leaves it at "production".
    environment: Literal["production", "development"] = Field(
        "production", validation_alias="ML_ENV"
    )

    @property
    def development(self) -> bool:
        return self.environment == "development"

    @property
    def metrics_address(self) -> tuple[str, int] | None:
        """(host, port) of the metrics listener; None in development without ML_METRICS_PORT."""
        if self.metrics_port is None and self.development:
            return None
        return self.metrics_host or self.host, self.metrics_port or METRICS_PORT

    @model_validator(mode="after")
    def _metrics_port_of_its_own(self) -> Self:
        # Sharing the public port would either fail to bind or, with ML_WORKERS > 1
        # (SO_REUSEPORT), hand some public requests to the metrics listener.
        if (address := self.metrics_address) is not None and address[1] == self.port:
            raise ValueError("ML_METRICS_PORT: is ML_PORT too; metrics need a port of their own")
        return self

    @model_validator(mode="after")
    def _no_public_values(self) -> Self:
        if not self.development and (problems := public_values(self)):
            lines = [f"{var}: {problem}" for var, problem in problems]
            raise ValueError(
                "\n".join(
                    [
                        *lines,
                        "Refusing to start outside development: generate real values as "
                        "deploy/minilogin.env.example shows (only a development machine sets "
                        "ML_ENV=development).",
                    ]
                )
            )
        return self


def public_values(settings: BaseSettings) -> list[tuple[str, str]]:
    """(variable, what is wrong) for each setting holding a value published in this
    repository (a built-in development secret, an example placeholder) or left empty where
    production needs it. Never includes the value itself."""
    cls = type(settings)
    problems = []
    for name, field in cls.model_fields.items():
        value = getattr(settings, name)
        items = value if isinstance(value, tuple) else (value,)
        texts = [v.get_secret_value() if isinstance(v, SecretStr) else v for v in items]
        problem = None
        for text in (t for t in texts if isinstance(t, str)):
            # Surrounding blanks and a trailing slash change nothing a client would send.
            if (known := PUBLIC_VALUES.get(text.strip().rstrip("/"))) is not None:
                problem = f"is {known}, public in this repository"
                break
            if PLACEHOLDER.lower() in text.lower():
                problem = f"still holds the example's {PLACEHOLDER} placeholder"
                break
        if problem is None and REQUIRED_IN_PRODUCTION in field.metadata and not value:
            problem = "is empty; production must set it"
        if problem is not None:
            problems.append((env_names(cls, name)[0], problem))
    return problems


# --- Pieces some services have -----------------------------------------------------------


class MongoSettings(_Settings):
    """MongoDB: accounts, connections, apps. A service with these settings opens it."""

    # `MONGO_URL` (the name MongoDB tooling uses) wins over `ML_MONGO_URL`.
    mongo_url: SecretStr = Field(
        SecretStr("mongodb://127.0.0.1:27017"),
        validation_alias=AliasChoices("MONGO_URL", "ML_MONGO_URL"),
    )
    mongo_db: str = "minilogin"
    # Seconds a MongoDB operation may take in all (finding the server, connecting, PyMongo's
    # one retry); past that the request gets 503 temporarily_unavailable. A start that
    # builds a new index on a large collection may need more.
    mongo_timeout: float = Field(2.0, gt=0)


class PublicOriginSettings(_Settings):
    """The one public origin: the OIDC issuer, QR links, logo URLs."""

    public_url: str = "http://127.0.0.1:8000"

    @property
    def issuer(self) -> str:
        return self.public_url.rstrip("/")


class ProxySettings(_Settings):
    """Reverse proxies in front that append the client's address to X-Forwarded-For."""

    trusted_proxy_hops: int = Field(0, ge=0)


class WeChatSettings(_Settings):
    """The WeChat API and the platform's own mini program (connections without their own)."""

    wx_api_base: str = "https://api.weixin.qq.com"
    wx_appid: str = DEV_WX_APPID
    wx_secret: SecretStr = SecretStr(DEV_WX_SECRET)


class SealingSettings(_Settings):
    """The Fernet key sealing connection AppSecrets at rest (and deriving access-token keys)."""

    secret_key: SecretStr = SecretStr(DEV_SECRET_KEY)
    # Keys sealed secrets may still be under during a rotation of secret_key (open only).
    previous_secret_keys: SecretList = ()

    @field_validator("secret_key", "previous_secret_keys")
    @classmethod
    def _fernet_keys(cls, value: SecretStr | tuple[SecretStr, ...]) -> object:
        # A bad key fails here, at startup, naming the variable, not at the first seal.
        for key in value if isinstance(value, tuple) else (value,):
            if PLACEHOLDER.lower() in key.get_secret_value().lower():
                raise ValueError(f"still holds the example's {PLACEHOLDER} placeholder")
            try:
                Fernet(key.get_secret_value().encode())
            except ValueError:
                raise ValueError(
                    "not a Fernet key (32 url-safe base64-encoded bytes; "
                    "deploy/minilogin.env.example shows how to generate one)"
                ) from None
        return value
