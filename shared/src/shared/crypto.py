"""Secrets at rest (connection AppSecrets) sealed with the deployment's key."""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken

from shared.settings import Secret


class SecretBox:
    def __init__(self, key: Secret) -> None:
        self._fernet = Fernet(key.get().encode())

    def seal(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def open(self, sealed: str) -> str:
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken as exc:
            raise ValueError("sealed secret does not open with this key") from exc
