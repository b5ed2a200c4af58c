"""account's settings: OIDC signing keys, the admin token, the sealing key."""

from __future__ import annotations

from pydantic import SecretStr

from shared.settings import (
    DEV_ADMIN_TOKEN,
    MongoSettings,
    PublicOriginSettings,
    SealingSettings,
    SecretFile,
    SecretFiles,
    ServiceSettings,
)


class AccountSettings(ServiceSettings, MongoSettings, PublicOriginSettings, SealingSettings):
    admin_token: SecretStr = SecretStr(DEV_ADMIN_TOKEN)
    # PEM private key signing ID and access tokens (empty: a fresh key per process).
    jwt_private_key_file: SecretFile = ""
    # PEM files of keys the JWKS publishes without signing with them (key rotation).
    jwt_published_key_files: SecretFiles = ()
    # What a new connection's tickets live when the admin request does not say.
    ticket_ttl: int = 120
