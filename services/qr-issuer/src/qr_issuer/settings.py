"""qr-issuer's settings: what the login page, tickets and QR images need, and no more."""

from __future__ import annotations

from typing import Literal

from shared.settings import (
    Flag,
    MongoSettings,
    ProxySettings,
    PublicOriginSettings,
    SealingSettings,
    ServiceSettings,
    WeChatSettings,
)


class QrIssuerSettings(
    ServiceSettings, MongoSettings, PublicOriginSettings, ProxySettings, WeChatSettings,
    SealingSettings,
):  # fmt: skip
    # WeChat and the sealing key: the mini program code image of a private connection is
    # fetched with its own AppSecret, sealed at rest.
    ticket_retention: int = 300
    # Rate limits, per minute and browser IP. Raise them only for load tests.
    rate_tickets_per_ip: int = 60
    rate_qr_per_ip: int = 120
    # Same-device login: links into the mini program per browser IP and minute (each costs
    # WeChat quota: 500 000 a day per mini program), and which kind WeChat is asked for:
    # "scheme" (weixin://dl/business/...) or "link" (https://wxaurl.cn/..., a URL Link).
    rate_wechat_links_per_ip: int = 10
    wechat_link_kind: Literal["scheme", "link"] = "scheme"
    cookie_secure: Flag = False
    # Shown on the hosted login page in development so a person can "scan" without a phone.
    dev_phone_simulator_url: str = ""
