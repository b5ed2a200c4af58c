"""The four services' settings side by side: `make run` and the tests build every service in
one process, and each still gets its own settings object, holding only its own secrets."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from account.settings import AccountSettings
from notifier.settings import NotifierSettings
from qr_issuer.settings import QrIssuerSettings
from scan_gateway.settings import ScanGatewaySettings
from shared.settings import ServiceSettings

# Service name (its folder under services/, its compose service and Kubernetes Deployment)
# -> the settings class its process reads.
SERVICE_SETTINGS: dict[str, type[ServiceSettings]] = {
    "qr-issuer": QrIssuerSettings,
    "scan-gateway": ScanGatewaySettings,
    "account": AccountSettings,
    "notifier": NotifierSettings,
}


def _own(cls: type[ServiceSettings], values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if k in cls.model_fields}


@dataclass(frozen=True)
class StackSettings:
    qr_issuer: QrIssuerSettings
    scan_gateway: ScanGatewaySettings
    account: AccountSettings
    notifier: NotifierSettings

    @classmethod
    def of(cls, **values: Any) -> StackSettings:
        """Each service's settings from the keyword values its class declares, defaults
        for the rest; the environment is not read. Development unless `environment` says
        otherwise: the stack in one process is never a deployment."""
        _check(values)
        values = {"environment": "development", **values}
        return cls(
            QrIssuerSettings(**_own(QrIssuerSettings, values)),
            ScanGatewaySettings(**_own(ScanGatewaySettings, values)),
            AccountSettings(**_own(AccountSettings, values)),
            NotifierSettings(**_own(NotifierSettings, values)),
        )

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> StackSettings:
        """Each service's settings from the same environment, as its own process would read
        them; `overrides` go to the services that declare them. Raises InvalidSettings."""
        _check(overrides)
        return cls(
            QrIssuerSettings.from_env(env, **_own(QrIssuerSettings, overrides)),
            ScanGatewaySettings.from_env(env, **_own(ScanGatewaySettings, overrides)),
            AccountSettings.from_env(env, **_own(AccountSettings, overrides)),
            NotifierSettings.from_env(env, **_own(NotifierSettings, overrides)),
        )


def _check(values: Mapping[str, Any]) -> None:
    known = {name for cls in SERVICE_SETTINGS.values() for name in cls.model_fields}
    if unknown := sorted(set(values) - known):
        raise TypeError(f"no service has the setting(s) {', '.join(unknown)}")
