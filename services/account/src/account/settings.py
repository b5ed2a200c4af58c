"""account's settings: OIDC signing keys, the admin token, the sealing key."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, SecretStr

from shared.settings import (
    DEV_ADMIN_TOKEN,
    REQUIRED_IN_PRODUCTION,
    MongoSettings,
    ProxySettings,
    PublicOriginSettings,
    SealingSettings,
    SecretFile,
    SecretFiles,
    ServiceSettings,
)


class AccountSettings(
    ServiceSettings, MongoSettings, PublicOriginSettings, ProxySettings, SealingSettings
):
    admin_token: SecretStr = SecretStr(DEV_ADMIN_TOKEN)
    # Wrong admin tokens one client IP may send per minute before it gets 429 (guessing).
    rate_admin_failures_per_ip: int = Field(10, ge=1)
    # PEM private key signing ID tokens (empty, development only: a fresh key per process,
    # so tokens fail across replicas and restarts).
    jwt_private_key_file: Annotated[SecretFile, REQUIRED_IN_PRODUCTION] = ""
    # PEM files of keys the JWKS publishes without signing with them (key rotation).
    jwt_published_key_files: SecretFiles = ()
    # What a new connection's tickets live when the admin request does not say.
    ticket_ttl: int = 120
    # How long an unused refresh token lives (each use rotates it and starts this again).
    refresh_token_ttl: int = Field(30 * 24 * 3600, ge=300)
    # Days an audit record is kept before MongoDB's TTL monitor removes it (account.audit).
    audit_retention_days: int = Field(180, ge=1, le=3650)
