"""scan-gateway's settings: what the mini program API and its WeChat calls need."""

from __future__ import annotations

from shared.settings import (
    MongoSettings,
    ProxySettings,
    PublicOriginSettings,
    SealingSettings,
    ServiceSettings,
    WeChatSettings,
)


class ScanGatewaySettings(
    ServiceSettings, MongoSettings, PublicOriginSettings, ProxySettings, WeChatSettings,
    SealingSettings,
):  # fmt: skip
    # Rate limits, per minute: scans per phone IP and per WeChat user. Raise them only for
    # load tests.
    rate_scans_per_ip: int = 120
    rate_scans_per_user: int = 30
