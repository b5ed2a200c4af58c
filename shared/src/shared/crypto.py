"""Secrets at rest (connection AppSecrets) sealed with the deployment's key.

Sealing uses ML_SECRET_KEY; opening also accepts ML_PREVIOUS_SECRET_KEYS, so a key
rotation keeps every private connection working while `python -m account.reseal` seals
them again under the new key."""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from pydantic import SecretStr

from shared.settings import SealingSettings


class SecretBox:
    def __init__(self, key: SecretStr, previous: tuple[SecretStr, ...] = ()) -> None:
        keys = (key, *previous)
        self._fernet = MultiFernet([Fernet(k.get_secret_value().encode()) for k in keys])

    @classmethod
    def from_settings(cls, settings: SealingSettings) -> SecretBox:
        return cls(settings.secret_key, settings.previous_secret_keys)

    def seal(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def open(self, sealed: str) -> str:
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken as exc:
            raise ValueError("sealed secret does not open with this key") from exc

    def reseal(self, sealed: str) -> str:
        """The same secret sealed under the current key (opened with any known key)."""
        try:
            return self._fernet.rotate(sealed.encode()).decode()
        except InvalidToken as exc:
            raise ValueError("sealed secret does not open with this key") from exc
