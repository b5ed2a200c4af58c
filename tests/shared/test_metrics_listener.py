"""Prometheus metrics outside development are served only on a listener of their own
(ML_METRICS_PORT), never on the public port an ingress or a scanner can reach; development
keeps them on the public port too, for `make run` and several services on one machine."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator

import aiohttp
import pytest
from aiohttp.test_utils import make_mocked_request
from cryptography.fernet import Fernet
from minilogin_testkit import REAL_AMQP, REAL_REDIS, free_port, server_process

from devstack.settings import SERVICE_SETTINGS, StackSettings
from notifier.settings import NotifierSettings
from shared.bus import open_bus
from shared.settings import METRICS_PORT, InvalidSettings

# What a deployment sets besides the defaults, so every service starts in production mode.
PRODUCTION_VALUES = {
    "environment": "production",
    "secret_key": Fernet.generate_key().decode(),
    "admin_token": "4f1c0d9e" * 8,
    "wx_appid": "wx0123456789abcdef",
    "wx_secret": "9a8b7c6d5e4f30211203f4e5d6c7b8a9",
    "jwt_private_key_file": "/run/secrets/jwt_private_key",
}


def test_production_listens_for_metrics_on_their_own_port_by_default() -> None:
    settings = NotifierSettings.from_env({"ML_HOST": "0.0.0.0"})  # noqa: S104  # a container's
    assert settings.metrics_address == ("0.0.0.0", METRICS_PORT)  # noqa: S104
    assert settings.port != METRICS_PORT


def test_the_metrics_listener_takes_its_own_host_and_port() -> None:
    settings = NotifierSettings.from_env(
        {"ML_HOST": "0.0.0.0", "ML_METRICS_HOST": "10.0.0.5", "ML_METRICS_PORT": "9200"}  # noqa: S104
    )
    assert settings.metrics_address == ("10.0.0.5", 9200)


def test_development_opens_no_metrics_listener_unless_asked() -> None:
    assert NotifierSettings.from_env({"ML_ENV": "development"}).metrics_address is None
    asked = NotifierSettings.from_env({"ML_ENV": "development", "ML_METRICS_PORT": "9300"})
    assert asked.metrics_address == ("127.0.0.1", 9300)


@pytest.mark.parametrize("env", [{"ML_PORT": str(METRICS_PORT)}, {"ML_METRICS_PORT": "8000"}])
def test_a_metrics_port_equal_to_the_public_port_is_refused(env: dict[str, str]) -> None:
    with pytest.raises(InvalidSettings, match="ML_METRICS_PORT: is ML_PORT too"):
        NotifierSettings.from_env(env)


@pytest.mark.parametrize("environment", ["production", "development"])
@pytest.mark.parametrize("service", sorted(SERVICE_SETTINGS))
async def test_the_public_port_serves_metrics_only_in_development(
    service: str, environment: str
) -> None:
    module = __import__(f"{service.replace('-', '_')}.app", fromlist=["create_app"])
    stack = StackSettings.of(**PRODUCTION_VALUES | {"environment": environment})
    settings = next(s for s in vars(stack).values() if type(s) is SERVICE_SETTINGS[service])
    router = module.create_app(settings).router  # built, never started

    async def status(path: str) -> int:
        match = await router.resolve(make_mocked_request("GET", path))
        return 200 if match.http_exception is None else match.http_exception.status

    assert await status(f"/internal/{service}/healthz") == 200  # the probes stay
    assert await status(f"/internal/{service}/metrics") == (
        200 if environment == "development" else 404
    )


@pytest.fixture
def production_notifier(namespace: str) -> Iterator[tuple[str, str]]:
    """A notifier process as a deployment runs it: its public and its metrics origin."""
    port, metrics_port = free_port(), free_port()
    inherited = {
        k: v for k, v in os.environ.items() if not k.startswith("ML_") and k != "MONGO_URL"
    }
    env = inherited | {
        "ML_ENV": "production",
        "ML_REDIS_URL": REAL_REDIS,
        "ML_AMQP_URL": REAL_AMQP,
        "ML_BUS_QUEUE_TYPE": "classic",
        "ML_NAMESPACE": namespace,
        "ML_PORT": str(port),
        "ML_METRICS_PORT": str(metrics_port),
        "ML_LOG_LEVEL": "WARNING",
    }
    with server_process([sys.executable, "-m", "notifier"], port, "notifier", env):
        yield f"http://127.0.0.1:{port}", f"http://127.0.0.1:{metrics_port}"


@pytest.mark.real
async def test_a_production_service_serves_metrics_only_on_the_metrics_port(
    production_notifier: tuple[str, str], namespace: str
) -> None:
    public, metrics = production_notifier
    path = "/internal/notifier/metrics"
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(public + path) as hidden:
                assert hidden.status == 404
                assert (await hidden.json())["error"]["code"] == "not_found"
            async with http.get(public + "/internal/notifier/readyz") as ready:
                assert ready.status == 200  # the probes stay on the public port
            async with http.get(metrics + path) as scraped:
                assert scraped.status == 200
                assert scraped.content_type == "text/plain"
                text = await scraped.text()
            # The public port's refusal above is in what Prometheus reads.
            counted = 'method="GET",route="unmatched",service="notifier",status="404"} 1.0'
            assert f"minilogin_http_requests_total{{{counted}" in text
            async with http.get(metrics + "/internal/notifier/readyz") as other:
                assert other.status == 404  # the metrics port serves metrics and nothing else
                assert (await other.json())["error"]["code"] == "not_found"
    finally:
        bus = await open_bus(REAL_AMQP, namespace, "classic")
        try:
            await bus.delete_everything()  # type: ignore[attr-defined]  # a RabbitBus
        finally:
            await bus.close()
