"""scan-gateway's settings: what the mini program API and its WeChat calls need."""

from __future__ import annotations

from pydantic import field_validator

from scan_gateway.places import Places
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
    # A GeoIP database in MaxMind DB format (GeoLite2 City, DB-IP Lite City, ...): where the
    # PC and the phone are. Empty: only loopback and private addresses have a place.
    geoip_db: str = ""

    @field_validator("geoip_db")
    @classmethod
    def _readable_database(cls, path: str) -> str:
        # A wrong path fails at startup, naming the variable, not at the first scan.
        Places.open(path).close()
        return path
