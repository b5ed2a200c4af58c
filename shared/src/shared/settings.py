"""Settings parsed once from the environment into a frozen value.

Every variable is documented in `deploy/minilogin.env.example`. The `memory://` URLs
select the embedded default (in-memory bus, fakeredis) used by `make run`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Secret:
    """A string that never shows up in repr, str or logs."""

    _value: str = field(repr=False)

    def get(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __bool__(self) -> bool:
        return bool(self._value)


# Development-only defaults; `deploy/` production profiles must override them.
DEV_SECRET_KEY = "bWluaWxvZ2luLWRldi1vbmx5LWtleS0zMi1ieXRlcyE="
DEV_WX_APPID = "wx5eb1d2c3a4f60789"
DEV_WX_SECRET = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
DEV_ADMIN_TOKEN = "dev-admin-token"


@dataclass(frozen=True)
class Settings:
    redis_url: str = "redis://127.0.0.1:6379/0"
    amqp_url: str = "amqp://guest:guest@127.0.0.1:5672/"
    # RabbitMQ work queues: "quorum" (replicated, for a broker cluster) or "classic" (one
    # broker node: no fsync before delivery, 0.3 to 3.4 ms faster per hop here).
    bus_queue_type: str = "quorum"
    mongo_url: str = "mongodb://127.0.0.1:27017"
    mongo_db: str = "minilogin"
    # Namespace for Redis keys, the exchange and queues: lets tests and tenants share servers.
    namespace: str = "ml"
    public_url: str = "http://127.0.0.1:8000"
    host: str = "127.0.0.1"
    port: int = 8000
    # Processes of this service sharing the port; scale pods first, this is for one big box.
    workers: int = 1
    # Requests one process works on at once before it answers 503 "overloaded" (0: no limit).
    max_in_flight: int = 256
    wx_api_base: str = "https://api.weixin.qq.com"
    wx_appid: str = DEV_WX_APPID
    wx_secret: Secret = Secret(DEV_WX_SECRET)
    secret_key: Secret = Secret(DEV_SECRET_KEY)
    # Keys sealed secrets may still be under during a rotation of secret_key (open only).
    previous_secret_keys: tuple[Secret, ...] = ()
    admin_token: Secret = Secret(DEV_ADMIN_TOKEN)
    jwt_private_key_file: str = ""
    # PEM files of keys the JWKS publishes without signing with them (key rotation).
    jwt_published_key_files: tuple[str, ...] = ()
    ticket_ttl: int = 120
    ticket_retention: int = 300
    trusted_proxy_hops: int = 0
    # Rate limits, per minute: tickets and QR images per browser IP, scans per phone IP and
    # per WeChat user. Raise them only for load tests.
    rate_tickets_per_ip: int = 60
    rate_qr_per_ip: int = 120
    rate_scans_per_ip: int = 120
    rate_scans_per_user: int = 30
    cookie_secure: bool = False
    log_level: str = "INFO"
    log_json: bool = True
    # Shown on the hosted login page in development so a person can "scan" without a phone.
    dev_phone_simulator_url: str = ""

    @property
    def issuer(self) -> str:
        return self.public_url.rstrip("/")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        env = os.environ if env is None else env

        def s(name: str, default: str) -> str:
            return env.get(f"ML_{name}", default)

        d = cls()
        values: dict[str, object] = {
            "redis_url": s("REDIS_URL", d.redis_url),
            "amqp_url": s("AMQP_URL", d.amqp_url),
            "bus_queue_type": s("BUS_QUEUE_TYPE", d.bus_queue_type),
            "mongo_url": env.get("MONGO_URL", s("MONGO_URL", d.mongo_url)),
            "mongo_db": s("MONGO_DB", d.mongo_db),
            "namespace": s("NAMESPACE", d.namespace),
            "public_url": s("PUBLIC_URL", d.public_url),
            "host": s("HOST", d.host),
            "port": int(s("PORT", str(d.port))),
            "workers": int(s("WORKERS", "1")),
            "max_in_flight": int(s("MAX_IN_FLIGHT", str(d.max_in_flight))),
            "wx_api_base": s("WX_API_BASE", d.wx_api_base),
            "wx_appid": s("WX_APPID", d.wx_appid),
            "wx_secret": Secret(s("WX_SECRET", d.wx_secret.get())),
            "secret_key": Secret(s("SECRET_KEY", d.secret_key.get())),
            "previous_secret_keys": tuple(
                Secret(k.strip()) for k in s("PREVIOUS_SECRET_KEYS", "").split(",") if k.strip()
            ),
            "admin_token": Secret(s("ADMIN_TOKEN", d.admin_token.get())),
            "jwt_private_key_file": s("JWT_PRIVATE_KEY_FILE", ""),
            "jwt_published_key_files": tuple(
                p.strip() for p in s("JWT_PUBLISHED_KEY_FILES", "").split(",") if p.strip()
            ),
            "ticket_ttl": int(s("TICKET_TTL", str(d.ticket_ttl))),
            "ticket_retention": int(s("TICKET_RETENTION", str(d.ticket_retention))),
            "trusted_proxy_hops": int(s("TRUSTED_PROXY_HOPS", "0")),
            "rate_tickets_per_ip": int(s("RATE_TICKETS_PER_IP", str(d.rate_tickets_per_ip))),
            "rate_qr_per_ip": int(s("RATE_QR_PER_IP", str(d.rate_qr_per_ip))),
            "rate_scans_per_ip": int(s("RATE_SCANS_PER_IP", str(d.rate_scans_per_ip))),
            "rate_scans_per_user": int(s("RATE_SCANS_PER_USER", str(d.rate_scans_per_user))),
            "cookie_secure": s("COOKIE_SECURE", "") in ("1", "true", "yes"),
            "log_level": s("LOG_LEVEL", d.log_level),
            "log_json": s("LOG_JSON", "1") in ("1", "true", "yes"),
            "dev_phone_simulator_url": s("DEV_PHONE_SIMULATOR_URL", ""),
        }
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]  # values are typed per field above
