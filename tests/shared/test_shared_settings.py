"""Settings per service, parsed once from ML_* variables: each service reads only its own,
secrets are never shown, a bad value stops startup with the variable named, and outside
development a public value (built-in secret, example placeholder) is refused."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr, ValidationError

from account.settings import AccountSettings
from devstack.settings import SERVICE_SETTINGS, StackSettings
from notifier.settings import NotifierSettings
from qr_issuer.settings import QrIssuerSettings
from scan_gateway.settings import ScanGatewaySettings
from shared.settings import (
    DEV_ADMIN_TOKEN,
    DEV_SECRET_KEY,
    DEV_WX_APPID,
    DEV_WX_SECRET,
    InvalidSettings,
    ServiceSettings,
    env_names,
    secret_variables,
)

FERNET_KEY = Fernet.generate_key().decode()
# Where a test is about parsing, not about production: the built-in secrets are allowed.
DEV = {"ML_ENV": "development"}


def test_secrets_never_show_in_repr_or_str() -> None:
    settings = AccountSettings(
        environment="development",
        admin_token=SecretStr("adm-token-1"),
        secret_key=SecretStr(FERNET_KEY),
        previous_secret_keys=(SecretStr(DEV_SECRET_KEY),),
        redis_url=SecretStr("redis://:redis-pass-1@cache:6379/0"),
        mongo_url=SecretStr("mongodb://u:mongo-pass-1@db:27017"),
    )
    for shown in (repr(settings), str(settings)):
        for value in ("adm-token-1", FERNET_KEY, DEV_SECRET_KEY, "redis-pass-1", "mongo-pass-1"):
            assert value not in shown
    assert settings.admin_token.get_secret_value() == "adm-token-1"


def test_each_service_reads_the_secrets_it_uses_and_no_others() -> None:
    connections = {"ML_REDIS_URL", "ML_AMQP_URL"}
    sealing = {"MONGO_URL", "ML_SECRET_KEY", "ML_PREVIOUS_SECRET_KEYS"}
    assert secret_variables(NotifierSettings) == connections
    assert secret_variables(QrIssuerSettings) == connections | sealing | {"ML_WX_SECRET"}
    assert secret_variables(ScanGatewaySettings) == connections | sealing | {"ML_WX_SECRET"}
    assert secret_variables(AccountSettings) == connections | sealing | {
        "ML_ADMIN_TOKEN",
        "ML_JWT_PRIVATE_KEY_FILE",
        "ML_JWT_PUBLISHED_KEY_FILES",
    }


def test_from_env_parses_each_services_variables() -> None:
    env = {
        "ML_REDIS_URL": "redis://cache:6379/2",
        "ML_AMQP_URL": "amqp://u:p@mq:5672/",
        "ML_BUS_QUEUE_TYPE": "classic",
        "ML_MONGO_URL": "mongodb://db:27017",
        "ML_MONGO_DB": "logins",
        "ML_NAMESPACE": "tenant1",
        "ML_PUBLIC_URL": "https://login.corp.example/",
        "ML_HOST": "10.0.0.5",
        "ML_PORT": "9000",
        "ML_WORKERS": "3",
        "ML_MAX_IN_FLIGHT": "64",
        "ML_WX_API_BASE": "http://sandbox:8080",
        "ML_WX_APPID": "wx0123456789abcdef",
        "ML_WX_SECRET": "s3cr3t",
        "ML_SECRET_KEY": FERNET_KEY,
        "ML_ADMIN_TOKEN": "adm",
        "ML_JWT_PRIVATE_KEY_FILE": "/run/secrets/jwt.pem",
        "ML_TICKET_TTL": "90",
        "ML_TICKET_RETENTION": "600",
        "ML_TRUSTED_PROXY_HOPS": "2",
        "ML_RATE_TICKETS_PER_IP": "7",
        "ML_RATE_QR_PER_IP": "8",
        "ML_RATE_SCANS_PER_IP": "9",
        "ML_RATE_SCANS_PER_USER": "10",
        "ML_COOKIE_SECURE": "true",
        "ML_LOG_LEVEL": "DEBUG",
        "ML_LOG_JSON": "0",
        "ML_DEV_PHONE_SIMULATOR_URL": "http://127.0.0.1:8000/phone",
    }
    qr = QrIssuerSettings.from_env(env)
    assert (qr.redis_url.get_secret_value(), qr.amqp_url.get_secret_value()) == (
        "redis://cache:6379/2",
        "amqp://u:p@mq:5672/",
    )
    assert (qr.mongo_url.get_secret_value(), qr.mongo_db, qr.namespace) == (
        "mongodb://db:27017",
        "logins",
        "tenant1",
    )
    assert qr.issuer == "https://login.corp.example"
    assert (qr.host, qr.port, qr.workers, qr.max_in_flight) == ("10.0.0.5", 9000, 3, 64)
    assert (qr.bus_queue_type, qr.log_level, qr.log_json) == ("classic", "DEBUG", False)
    assert (qr.wx_api_base, qr.wx_appid, qr.wx_secret.get_secret_value()) == (
        "http://sandbox:8080",
        "wx0123456789abcdef",
        "s3cr3t",
    )
    assert qr.secret_key.get_secret_value() == FERNET_KEY
    assert (qr.ticket_retention, qr.trusted_proxy_hops) == (600, 2)
    assert (qr.rate_tickets_per_ip, qr.rate_qr_per_ip, qr.cookie_secure) == (7, 8, True)
    assert qr.dev_phone_simulator_url == "http://127.0.0.1:8000/phone"

    gw = ScanGatewaySettings.from_env(env)
    assert (gw.rate_scans_per_ip, gw.rate_scans_per_user, gw.trusted_proxy_hops) == (9, 10, 2)
    assert gw.wx_secret.get_secret_value() == "s3cr3t"

    acct = AccountSettings.from_env(env)
    assert (acct.admin_token.get_secret_value(), acct.ticket_ttl) == ("adm", 90)
    assert acct.jwt_private_key_file == "/run/secrets/jwt.pem"
    assert acct.issuer == "https://login.corp.example"

    notifier = NotifierSettings.from_env(env)
    assert (notifier.namespace, notifier.port, notifier.bus_queue_type) == (
        "tenant1",
        9000,
        "classic",
    )
    assert not hasattr(notifier, "wx_secret")
    assert not hasattr(notifier, "mongo_url")


@pytest.mark.parametrize("cls", SERVICE_SETTINGS.values(), ids=SERVICE_SETTINGS)
def test_without_variables_every_service_gets_the_defaults(cls: type[ServiceSettings]) -> None:
    defaults = cls(environment="development")
    assert cls.from_env(DEV) == defaults
    assert defaults.port == 8000
    assert defaults.redis_url.get_secret_value() == "redis://127.0.0.1:6379/0"


def test_the_constructor_never_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ML_PORT", "9100")
    monkeypatch.setenv("ML_ADMIN_TOKEN", "from-the-environment")
    monkeypatch.setenv("ML_ENV", "development")
    assert AccountSettings(environment="development").port == 8000
    with pytest.raises(ValidationError, match="ML_ADMIN_TOKEN"):
        AccountSettings()  # production: the environment's ML_ENV is not read either
    assert AccountSettings.from_env().port == 9100


def test_unprefixed_mongo_url_wins_and_overrides_win_over_the_environment() -> None:
    s = AccountSettings.from_env(
        {"MONGO_URL": "mongodb://plain:1", "ML_MONGO_URL": "mongodb://ml:2", "ML_PORT": "1", **DEV},
        port=8123,
    )
    assert s.mongo_url.get_secret_value() == "mongodb://plain:1"
    assert s.port == 8123
    only_prefixed = AccountSettings.from_env({"ML_MONGO_URL": "mongodb://ml:2", **DEV})
    assert only_prefixed.mongo_url.get_secret_value() == "mongodb://ml:2"


def test_lists_are_comma_separated() -> None:
    keys = [Fernet.generate_key().decode() for _ in range(2)]
    s = AccountSettings.from_env(
        {
            "ML_PREVIOUS_SECRET_KEYS": f" {keys[0]} ,{keys[1]},",
            "ML_JWT_PUBLISHED_KEY_FILES": "/keys/a.pem, /keys/b.pem",
            **DEV,
        }
    )
    assert [k.get_secret_value() for k in s.previous_secret_keys] == keys
    assert s.jwt_published_key_files == ("/keys/a.pem", "/keys/b.pem")
    empty = AccountSettings.from_env(
        {"ML_PREVIOUS_SECRET_KEYS": "", "ML_JWT_PUBLISHED_KEY_FILES": "", **DEV}
    )
    assert (empty.previous_secret_keys, empty.jwt_published_key_files) == ((), ())


def test_retry_delays_are_seconds_in_turn() -> None:
    s = NotifierSettings.from_env({"ML_BUS_RETRY_DELAYS": "0.5, 2,10"})
    assert s.bus_retry_delays == (0.5, 2.0, 10.0)
    assert NotifierSettings.from_env({}).bus_retry_delays == (0.2, 1.0, 5.0, 15.0, 30.0)
    for bad in ["", "1,0", "1,-2", "soon", "7200", ",".join(["1"] * 11)]:
        with pytest.raises(InvalidSettings, match="ML_BUS_RETRY_DELAYS"):
            NotifierSettings.from_env({"ML_BUS_RETRY_DELAYS": bad})


@pytest.mark.parametrize(
    ("word", "value"),
    [("1", True), ("true", True), ("yes", True), ("On", True),
     ("0", False), ("false", False), ("no", False), ("", False)],
)  # fmt: skip
def test_on_off_variables(word: str, value: bool) -> None:
    assert QrIssuerSettings.from_env({"ML_COOKIE_SECURE": word, **DEV}).cookie_secure is value
    assert NotifierSettings.from_env({"ML_LOG_JSON": word}).log_json is value


def test_a_bad_value_names_its_variable() -> None:
    with pytest.raises(InvalidSettings) as caught:
        QrIssuerSettings.from_env(
            {"ML_PORT": "abc", "ML_COOKIE_SECURE": "maybe", "ML_BUS_QUEUE_TYPE": "mirrored"}
        )
    message = str(caught.value)
    assert "ML_PORT='abc'" in message
    assert "valid integer" in message
    assert "ML_COOKIE_SECURE='maybe'" in message
    assert "ML_BUS_QUEUE_TYPE='mirrored'" in message
    with pytest.raises(InvalidSettings, match="ML_PORT"):
        NotifierSettings.from_env({"ML_PORT": "70000"})


def test_a_bad_secret_is_named_but_not_shown() -> None:
    with pytest.raises(InvalidSettings) as caught:
        AccountSettings.from_env(
            {"ML_SECRET_KEY": "hunter2-not-fernet", "ML_PREVIOUS_SECRET_KEYS": "hunter3"}
        )
    message = str(caught.value)
    assert "ML_SECRET_KEY: not a Fernet key" in message
    assert "ML_PREVIOUS_SECRET_KEYS: not a Fernet key" in message
    assert "hunter" not in message
    assert caught.value.__cause__ is None  # pydantic's error, which repeats the input, is dropped
    assert caught.value.__suppress_context__


def test_a_service_with_a_bad_variable_exits_with_a_message_not_a_traceback() -> None:
    env = {**os.environ, "ML_PORT": "abc", "ML_SECRET_KEY": "hunter2-not-fernet"}
    done = subprocess.run(
        [sys.executable, "-m", "account"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "account: invalid AccountSettings" in done.stderr
    assert "ML_PORT='abc'" in done.stderr
    assert "ML_SECRET_KEY: not a Fernet key" in done.stderr
    assert "hunter2" not in done.stderr


def test_settings_are_frozen() -> None:
    settings = NotifierSettings()
    with pytest.raises(ValidationError, match="frozen"):
        settings.port = 1  # type: ignore[misc]


def test_one_process_stack_gives_each_service_only_its_own_settings() -> None:
    stack = StackSettings.from_env(
        {"ML_ADMIN_TOKEN": "adm", "ML_WX_SECRET": "wxs", "ML_NAMESPACE": "t1", **DEV},
        rate_scans_per_user=5,
    )
    assert stack.account.admin_token.get_secret_value() == "adm"
    assert stack.scan_gateway.wx_secret.get_secret_value() == "wxs"
    assert stack.scan_gateway.rate_scans_per_user == 5
    assert {s.namespace for s in vars(stack).values()} == {"t1"}
    assert not hasattr(stack.notifier, "admin_token")
    assert not hasattr(stack.qr_issuer, "admin_token")
    assert not hasattr(stack.account, "wx_secret")
    with pytest.raises(TypeError, match="rate_scans_per_minute"):
        StackSettings.of(rate_scans_per_minute=5)


# --- Production must not run on public values --------------------------------------------

# What an operator who followed deploy/minilogin.env.example gives a service.
PRODUCTION = {
    "ML_PUBLIC_URL": "https://login.corp.example",
    "ML_SECRET_KEY": FERNET_KEY,
    "ML_ADMIN_TOKEN": "4f1c0d9e" * 8,
    "ML_WX_APPID": "wx0123456789abcdef",
    "ML_WX_SECRET": "9a8b7c6d5e4f30211203f4e5d6c7b8a9",
    "ML_JWT_PRIVATE_KEY_FILE": "/run/secrets/jwt_private_key",
}
# The variables each service refuses to start without when given none.
REFUSED_DEFAULTS = {
    "qr-issuer": {"ML_SECRET_KEY", "ML_WX_APPID", "ML_WX_SECRET"},
    "scan-gateway": {"ML_SECRET_KEY", "ML_WX_APPID", "ML_WX_SECRET"},
    "account": {"ML_SECRET_KEY", "ML_ADMIN_TOKEN", "ML_JWT_PRIVATE_KEY_FILE"},
    "notifier": set(),
}


def refused(cls: type[ServiceSettings], env: dict[str, str]) -> set[str]:
    """The variables `cls.from_env(env)` refuses (none: it starts)."""
    try:
        cls.from_env(env)
    except InvalidSettings as exc:
        return {line.split(":")[0].strip() for line in str(exc).splitlines()[1:-1]}
    return set()


@pytest.mark.parametrize("service", SERVICE_SETTINGS)
def test_outside_development_the_built_in_secrets_are_refused(service: str) -> None:
    cls = SERVICE_SETTINGS[service]
    assert refused(cls, {}) == REFUSED_DEFAULTS[service]
    assert refused(cls, {"ML_ENV": "production"}) == REFUSED_DEFAULTS[service]
    assert refused(cls, DEV) == set()
    assert refused(cls, PRODUCTION) == set()
    assert not cls.from_env(PRODUCTION).development


@pytest.mark.parametrize(
    ("var", "value"),
    [
        ("ML_SECRET_KEY", DEV_SECRET_KEY),
        ("ML_PREVIOUS_SECRET_KEYS", f"{Fernet.generate_key().decode()},{DEV_SECRET_KEY}"),
        ("ML_ADMIN_TOKEN", DEV_ADMIN_TOKEN),
        ("ML_ADMIN_TOKEN", f" {DEV_ADMIN_TOKEN} "),
        ("ML_ADMIN_TOKEN", "CHANGE-ME-generate-a-long-random-token"),
        ("ML_WX_SECRET", DEV_WX_SECRET),
        ("ML_WX_APPID", DEV_WX_APPID),
        ("ML_REDIS_URL", "redis://:change-me@redis:6379/0"),
        ("MONGO_URL", "mongodb://minilogin:CHANGE-ME@mongo:27017/?authSource=admin"),
        ("ML_JWT_PRIVATE_KEY_FILE", ""),
    ],
)
def test_a_public_value_is_refused_in_every_service_reading_it(var: str, value: str) -> None:
    readers = [cls for cls in SERVICE_SETTINGS.values() if var in reads(cls)]
    assert readers
    for cls in readers:
        with pytest.raises(InvalidSettings) as caught:
            cls.from_env({**PRODUCTION, var: value})
        message = str(caught.value)
        assert f"\n  {var}: " in message
        assert "ML_ENV=development" in message  # how a development machine gets past it
        if value.strip():
            assert value.strip() not in message
        # The same value is what `make run` and the tests use: development takes it.
        if "CHANGE-ME" not in value.upper():
            cls.from_env({**PRODUCTION, var: value, **DEV})


def reads(cls: type[ServiceSettings]) -> set[str]:
    return {n for name in cls.model_fields for n in env_names(cls, name)}


def test_an_unknown_environment_is_named() -> None:
    with pytest.raises(InvalidSettings, match="ML_ENV"):
        NotifierSettings.from_env({"ML_ENV": "staging"})


@pytest.mark.parametrize(
    ("service", "env", "named"),
    [
        ("account", {"ML_ADMIN_TOKEN": DEV_ADMIN_TOKEN}, "ML_ADMIN_TOKEN"),
        ("qr-issuer", {"ML_WX_SECRET": "CHANGE-ME-32-hex-characters-0000"}, "ML_WX_SECRET"),
        ("scan-gateway", {"ML_PREVIOUS_SECRET_KEYS": DEV_SECRET_KEY}, "ML_PREVIOUS_SECRET_KEYS"),
    ],
)
def test_a_service_started_on_a_public_secret_exits_naming_it(
    service: str, env: dict[str, str], named: str
) -> None:
    # A production-like process environment: no ML_ENV, real values but for one.
    inherited = {
        k: v for k, v in os.environ.items() if not k.startswith("ML_") and k != "MONGO_URL"
    }
    done = subprocess.run(  # noqa: S603  # our own interpreter running a service
        [sys.executable, "-m", service.replace("-", "_")],
        env={**inherited, **PRODUCTION, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert lines[0] == f"{service}: invalid {SERVICE_SETTINGS[service].__name__}:"
    assert lines[1].startswith(f"  {named}: ")
    assert "ML_ENV=development" in lines[-1]
    for value in env.values():
        assert value not in done.stderr
