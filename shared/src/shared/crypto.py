"""Secrets at rest (connection AppSecrets) sealed with the deployment's key.

Sealing uses ML_SECRET_KEY; opening also accepts ML_PREVIOUS_SECRET_KEYS, so a key
rotation keeps every private connection working while `python -m account.reseal` seals
them again under the new key."""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from shared.settings import Secret, Settings


class SecretBox:
    def __init__(self, key: Secret, previous: tuple[Secret, ...] = ()) -> None:
        self._fernet = MultiFernet([Fernet(k.get().encode()) for k in (key, *previous)])

    @classmethod
    def from_settings(cls, settings: Settings) -> SecretBox:
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
