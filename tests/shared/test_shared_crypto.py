"""Secrets at rest: sealed with the deployment's key, opened only with it."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr

from shared.crypto import SecretBox
from shared.settings import DEV_SECRET_KEY, SealingSettings


def box() -> SecretBox:
    return SecretBox(SecretStr(Fernet.generate_key().decode()))


def test_sealed_secret_opens_to_the_plaintext() -> None:
    b = box()
    sealed = b.seal("0f1e2d3c4b5a69788796a5b4c3d2e1f0")
    assert "0f1e2d3c" not in sealed
    assert b.open(sealed) == "0f1e2d3c4b5a69788796a5b4c3d2e1f0"


def test_sealing_twice_gives_different_ciphertexts() -> None:
    b = box()
    assert b.seal("same") != b.seal("same")


def test_unicode_round_trips() -> None:
    b = SecretBox(SecretStr(DEV_SECRET_KEY))
    assert b.open(b.seal("密钥 ✓")) == "密钥 ✓"


def test_wrong_key_refuses_to_open() -> None:
    sealed = box().seal("app-secret")
    with pytest.raises(ValueError, match="does not open"):
        box().open(sealed)


def test_tampered_or_garbage_ciphertext_refuses_to_open() -> None:
    b = box()
    sealed = b.seal("app-secret")
    tampered = sealed[:-5] + ("A" if sealed[-5] != "A" else "B") + sealed[-4:]
    for bad in (tampered, "not-a-token", ""):
        with pytest.raises(ValueError, match="does not open"):
            b.open(bad)


def test_during_a_key_rotation_old_secrets_open_and_new_ones_use_the_new_key() -> None:
    old, new = SecretStr(Fernet.generate_key().decode()), SecretStr(Fernet.generate_key().decode())
    sealed_before = SecretBox(old).seal("before")
    rotating = SecretBox(new, (old,))
    assert rotating.open(sealed_before) == "before"
    assert SecretBox(new).open(rotating.seal("after")) == "after"
    resealed = rotating.reseal(sealed_before)
    assert SecretBox(new).open(resealed) == "before"
    with pytest.raises(ValueError, match="does not open"):
        SecretBox(old).open(resealed)


def test_previous_secret_keys_are_read_as_a_comma_separated_list() -> None:
    keys = [Fernet.generate_key().decode() for _ in range(2)]
    settings = SealingSettings.from_env({"ML_PREVIOUS_SECRET_KEYS": f"{keys[0]}, {keys[1]}"})
    assert [k.get_secret_value() for k in settings.previous_secret_keys] == keys
    assert keys[0] not in repr(settings)  # secrets stay out of logs and tracebacks
