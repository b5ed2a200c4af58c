"""Passwords: argon2id for what we hash; argon2 (any variant), bcrypt and scrypt hashes a site
brings its users in with verify as they did there, and are marked for rehashing; strings that
are not hashes, or would cost too much to check, are refused."""

from __future__ import annotations

import base64
import hashlib

import bcrypt
import pytest
from argon2.low_level import Type, hash_secret

from account import passwords
from account.passwords import Scheme, UnsupportedHash


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode().rstrip("=")


def scrypt_hash(password: str, salt: bytes = b"pepper-and-salt!", ln: int = 12) -> str:
    digest = hashlib.scrypt(password.encode(), salt=salt, n=2**ln, r=8, p=1, dklen=32)
    return f"$scrypt$ln={ln},r=8,p=1${_b64(salt)}${_b64(digest)}"


def argon2_hash(password: str, variant: Type) -> str:
    raw = hash_secret(password.encode(), b"somesaltsomesalt", 2, 8192, 1, 32, variant)
    return raw.decode()


def test_a_new_password_is_hashed_with_argon2id_and_verifies() -> None:
    stored = passwords.hash_password("correct horse")
    assert stored.startswith("$argon2id$")
    assert passwords.verify(stored, "correct horse")
    assert not passwords.verify(stored, "correct horse ")
    assert not passwords.needs_rehash(stored)
    # A fresh salt each time: the same password never gives the same hash.
    assert passwords.hash_password("correct horse") != stored


@pytest.mark.parametrize("variant", [Type.ID, Type.I, Type.D])
def test_imported_argon2_hashes_of_any_variant_verify_and_are_rehashed(variant: Type) -> None:
    stored = argon2_hash("s3cret-pass", variant)
    assert passwords.scheme_of(stored) == Scheme.ARGON2
    assert passwords.verify(stored, "s3cret-pass")
    assert not passwords.verify(stored, "s3cret-Pass")
    # Another variant, or weaker parameters than ours: replaced on the first sign-in.
    assert passwords.needs_rehash(stored)


@pytest.mark.parametrize("prefix", ["$2b$", "$2a$", "$2y$"])
def test_imported_bcrypt_hashes_verify_and_are_rehashed(prefix: str) -> None:
    stored = bcrypt.hashpw(b"s3cret-pass", bcrypt.gensalt(5)).decode()
    stored = prefix + stored[4:]
    assert passwords.scheme_of(stored) == Scheme.BCRYPT
    assert passwords.verify(stored, "s3cret-pass")
    assert not passwords.verify(stored, "s3cret-pas")
    assert passwords.needs_rehash(stored)


def test_bcrypt_reads_only_the_first_72_bytes_as_the_site_that_made_it_did() -> None:
    long = "x" * 72
    stored = bcrypt.hashpw(long.encode(), bcrypt.gensalt(4)).decode()
    assert passwords.verify(stored, long + "anything after is ignored by bcrypt")


def test_imported_scrypt_hashes_verify_in_the_phc_format_and_passlibs() -> None:
    stored = scrypt_hash("s3cret-pass")
    assert passwords.scheme_of(stored) == Scheme.SCRYPT
    assert passwords.verify(stored, "s3cret-pass")
    assert not passwords.verify(stored, "wrong")
    assert passwords.needs_rehash(stored)
    # passlib writes "." where base64 has "+".
    salt = b"\xfb\xef\xbe" * 6  # encodes to "++++..."
    passlib_style = scrypt_hash("s3cret-pass", salt=salt).replace("+", ".")
    assert "." in passlib_style
    assert passwords.verify(passlib_style, "s3cret-pass")


@pytest.mark.parametrize(
    "stored",
    [
        "plain text password",
        "$1$saltsalt$6x7Zq5nJ3bX0X2Xq8K7yE/",  # md5-crypt
        "5f4dcc3b5aa765d61d8327deb882cf99",  # a bare md5
        "$2b$05$tooshort",
        "$2b$20$" + "a" * 53,  # bcrypt cost 20: a second per doubling past our limit
        "$argon2id$v=19$m=4194304,t=3,p=4$c29tZXNhbHQ$" + "A" * 43,  # 4 GiB of memory
        "$argon2id$v=19$m=65536,t=3,p=4$notbase64!$AAAA",
        "$scrypt$ln=24,r=8,p=1$c2FsdHNhbHQ$" + _b64(b"0" * 32),  # 2 GiB
        "$scrypt$ln=12,r=8,p=1$c2FsdHNhbHQ$AA",  # a hash of one byte
        "$scrypt$ln=12,r=8,p=1$c2FsdA$" + _b64(b"0" * 32),  # four bytes of salt
    ],
)
def test_what_is_not_an_accepted_hash_is_refused(stored: str) -> None:
    with pytest.raises(UnsupportedHash):
        passwords.scheme_of(stored)
    with pytest.raises(UnsupportedHash):
        passwords.verify(stored, "anything")
