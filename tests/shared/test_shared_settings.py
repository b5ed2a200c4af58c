"""Settings parsed once from ML_* variables; secrets never shown."""

from __future__ import annotations

from shared.settings import DEV_SECRET_KEY, Secret, Settings


def test_secret_repr_and_str_hide_the_value() -> None:
    secret = Secret("hunter2-app-secret")
    for shown in (repr(secret), str(secret), f"{secret}", f"{secret!r}"):
        assert "hunter2" not in shown
        assert "***" in shown
    assert secret.get() == "hunter2-app-secret"


def test_secret_is_truthy_only_when_set() -> None:
    assert Secret("x")
    assert not Secret("")


def test_settings_repr_shows_no_secret_values() -> None:
    settings = Settings(wx_secret=Secret("wx-very-secret"), admin_token=Secret("adm-token-1"))
    shown = repr(settings)
    assert "wx-very-secret" not in shown
    assert "adm-token-1" not in shown
    assert DEV_SECRET_KEY not in shown


def test_from_env_parses_ml_variables() -> None:
    env = {
        "ML_REDIS_URL": "redis://cache:6379/2",
        "ML_AMQP_URL": "amqp://u:p@mq:5672/",
        "ML_MONGO_URL": "mongodb://db:27017",
        "ML_MONGO_DB": "logins",
        "ML_NAMESPACE": "tenant1",
        "ML_PUBLIC_URL": "https://login.example.com/",
        "ML_HOST": "10.0.0.5",
        "ML_PORT": "9000",
        "ML_WX_API_BASE": "http://sandbox:8080",
        "ML_WX_APPID": "wx0123456789abcdef",
        "ML_WX_SECRET": "s3cr3t",
        "ML_SECRET_KEY": "k3y",
        "ML_ADMIN_TOKEN": "adm",
        "ML_JWT_PRIVATE_KEY_FILE": "/run/secrets/jwt.pem",
        "ML_TICKET_TTL": "90",
        "ML_TICKET_RETENTION": "600",
        "ML_TRUSTED_PROXY_HOPS": "2",
        "ML_COOKIE_SECURE": "true",
        "ML_LOG_LEVEL": "DEBUG",
        "ML_LOG_JSON": "0",
        "ML_DEV_PHONE_SIMULATOR_URL": "http://127.0.0.1:8000/phone",
    }
    s = Settings.from_env(env)
    assert (s.redis_url, s.amqp_url, s.mongo_url, s.mongo_db, s.namespace) == (
        "redis://cache:6379/2",
        "amqp://u:p@mq:5672/",
        "mongodb://db:27017",
        "logins",
        "tenant1",
    )
    assert s.issuer == "https://login.example.com"
    assert (s.host, s.port, s.wx_api_base, s.wx_appid) == (
        "10.0.0.5",
        9000,
        "http://sandbox:8080",
        "wx0123456789abcdef",
    )
    assert (s.wx_secret.get(), s.secret_key.get(), s.admin_token.get()) == ("s3cr3t", "k3y", "adm")
    assert s.jwt_private_key_file == "/run/secrets/jwt.pem"
    assert (s.ticket_ttl, s.ticket_retention, s.trusted_proxy_hops) == (90, 600, 2)
    assert s.cookie_secure is True
    assert (s.log_level, s.log_json) == ("DEBUG", False)
    assert s.dev_phone_simulator_url == "http://127.0.0.1:8000/phone"


def test_from_env_without_variables_gives_the_defaults() -> None:
    assert Settings.from_env({}) == Settings()


def test_unprefixed_mongo_url_wins_and_overrides_win_over_the_environment() -> None:
    s = Settings.from_env(
        {"MONGO_URL": "mongodb://plain:1", "ML_MONGO_URL": "mongodb://ml:2", "ML_PORT": "1"},
        port=8123,
    )
    assert s.mongo_url == "mongodb://plain:1"
    assert s.port == 8123


def test_boolean_variables_accept_only_yes_words() -> None:
    assert Settings.from_env({"ML_COOKIE_SECURE": "1"}).cookie_secure is True
    assert Settings.from_env({"ML_COOKIE_SECURE": "no"}).cookie_secure is False
    assert Settings.from_env({"ML_LOG_JSON": "yes"}).log_json is True
    assert Settings.from_env({"ML_LOG_JSON": "false"}).log_json is False
