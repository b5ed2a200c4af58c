"""Password hashes of local accounts: argon2id for every password set here, and the formats a
site may bring its users' hashes in with (argon2 of any variant, bcrypt, scrypt). A hash in
another format verifies until its owner's first successful sign-in, which replaces it with
argon2id (`needs_rehash`).

scrypt hashes are read in the PHC string format:
`$scrypt$ln=<log2 N>,r=<block size>,p=<parallelism>$<salt>$<hash>`, salt and hash in base64
without padding (PHC's B64; passlib's variant with "." for "+" is read too), the hash being
`hashlib.scrypt(password, salt=salt, n=2**ln, r=r, p=p, dklen=len(hash))`.

Verifying is CPU work (tens of milliseconds, on purpose): callers run it off the event loop.
Imported hashes are held to cost limits, so a file of hashes cannot make each sign-in take
seconds or gigabytes.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from enum import StrEnum

import bcrypt
from argon2 import PasswordHasher, Type, extract_parameters
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

# argon2-cffi's defaults: RFC 9106's second recommended option (t=3, 64 MiB, p=4).
HASHER = PasswordHasher()
# bcrypt reads at most 72 bytes of a password; sites that made these hashes cut longer ones
# there silently (bcrypt 5 refuses them instead), so verification cuts them the same way.
BCRYPT_MAX_BYTES = 72
MAX_PASSWORD_CHARS = 1024  # longer is no stronger, only slower to hash
# Cost limits on imported hashes: at most about a second and 256 MiB to verify one.
MAX_BCRYPT_COST = 15
MAX_ARGON2_MEMORY_KIB = 256 * 1024
MAX_ARGON2_TIME = 10
MAX_PARALLELISM = 16
MAX_SCRYPT_MEMORY = 256 * 1024 * 1024
SCRYPT_WORK = 4 * MAX_SCRYPT_MEMORY

# The PHC form argon2's reference library writes (`v=` is missing from version 1.0 hashes).
_ARGON2 = re.compile(
    r"^\$argon2(id|i|d)\$(v=\d+\$)?m=\d+,t=\d+,p=\d+\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$"
)
_BCRYPT = re.compile(r"^\$2[abxy]\$(\d\d)\$[./A-Za-z0-9]{53}$")
_SCRYPT = re.compile(
    r"^\$scrypt\$ln=(\d{1,2}),r=(\d{1,3}),p=(\d{1,3})\$([A-Za-z0-9+/.]+)\$([A-Za-z0-9+/.]+)$"
)


class Scheme(StrEnum):
    ARGON2 = "argon2"
    BCRYPT = "bcrypt"
    SCRYPT = "scrypt"


class UnsupportedHash(ValueError):
    """A stored or imported string that is not a hash in a format we accept, or one whose
    cost is past our limits."""


@dataclass(frozen=True)
class _Scrypt:
    n: int
    r: int
    p: int
    salt: bytes
    digest: bytes


def hash_password(password: str) -> str:
    """The argon2id hash of `password`, with a fresh salt."""
    return HASHER.hash(password)


def scheme_of(stored: str) -> Scheme:
    """The format of `stored`, checked in full (parameters, lengths, cost limits).
    Raises UnsupportedHash."""
    if stored.startswith(("$argon2id$", "$argon2i$", "$argon2d$")):
        if not _ARGON2.match(stored):
            raise UnsupportedHash("not a well-formed argon2 hash")
        try:
            params = extract_parameters(stored)
        except InvalidHashError as exc:
            raise UnsupportedHash("not a well-formed argon2 hash") from exc
        if (
            params.memory_cost > MAX_ARGON2_MEMORY_KIB
            or params.time_cost > MAX_ARGON2_TIME
            or params.parallelism > MAX_PARALLELISM
        ):
            raise UnsupportedHash(
                f"argon2 cost above the limits (m<={MAX_ARGON2_MEMORY_KIB}, "
                f"t<={MAX_ARGON2_TIME}, p<={MAX_PARALLELISM})"
            )
        return Scheme.ARGON2
    if stored.startswith("$2"):
        match = _BCRYPT.match(stored)
        if match is None:
            raise UnsupportedHash("not a well-formed bcrypt hash ($2a$, $2b$ or $2y$)")
        if not 4 <= int(match.group(1)) <= MAX_BCRYPT_COST:
            raise UnsupportedHash(f"bcrypt cost must be 4 to {MAX_BCRYPT_COST}")
        return Scheme.BCRYPT
    if stored.startswith("$scrypt$"):
        _scrypt(stored)
        return Scheme.SCRYPT
    raise UnsupportedHash("unknown hash format: argon2, bcrypt ($2b$) and $scrypt$ are accepted")


def _b64(text: str) -> bytes:
    text = text.replace(".", "+")  # passlib's adapted base64
    return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)


def _scrypt(stored: str) -> _Scrypt:
    match = _SCRYPT.match(stored)
    if match is None:
        raise UnsupportedHash("not a well-formed $scrypt$ln=..,r=..,p=..$salt$hash string")
    ln, r, p = (int(match.group(i)) for i in (1, 2, 3))
    try:
        salt, digest = _b64(match.group(4)), _b64(match.group(5))
    except (binascii.Error, ValueError) as exc:
        raise UnsupportedHash("scrypt salt or hash is not base64") from exc
    if not (1 <= ln <= 20 and r >= 1 and 1 <= p <= MAX_PARALLELISM):
        raise UnsupportedHash("scrypt parameters out of range (ln 1-20, r>=1, p 1-16)")
    # scrypt's memory is 128 * r * N bytes, and each of its p lanes costs that much work.
    if 128 * r * (2**ln + p + 2) > MAX_SCRYPT_MEMORY or 128 * r * 2**ln * p > SCRYPT_WORK:
        raise UnsupportedHash("scrypt cost above the limits (128*r*N <= 256 MiB, times p <= 1 GiB)")
    if len(salt) < 8 or not 16 <= len(digest) <= 64:
        raise UnsupportedHash("scrypt salt must be 8 bytes or more, the hash 16 to 64")
    return _Scrypt(2**ln, r, p, salt, digest)


def verify(stored: str, password: str) -> bool:
    """Whether `password` matches `stored` (any accepted format). Raises UnsupportedHash
    for a string that is not one."""
    scheme = scheme_of(stored)
    secret = password.encode()
    if scheme == Scheme.ARGON2:
        try:
            # argon2-cffi reads the variant (id, i, d) from the hash itself.
            return HASHER.verify(stored, secret)
        except VerifyMismatchError:
            return False
        except (VerificationError, InvalidHashError) as exc:
            raise UnsupportedHash("argon2 hash could not be checked") from exc
    if scheme == Scheme.BCRYPT:
        return bcrypt.checkpw(secret[:BCRYPT_MAX_BYTES], stored.encode())
    s = _scrypt(stored)
    derived = hashlib.scrypt(
        secret,
        salt=s.salt,
        n=s.n,
        r=s.r,
        p=s.p,
        maxmem=MAX_SCRYPT_MEMORY + 2**20,
        dklen=len(s.digest),
    )
    return hmac.compare_digest(derived, s.digest)


def needs_rehash(stored: str) -> bool:
    """Whether `stored` should be replaced by a fresh argon2id hash once its password is known:
    another format, another argon2 variant, or parameters other than ours."""
    if not stored.startswith("$argon2id$"):
        return True
    try:
        return HASHER.check_needs_rehash(stored) or extract_parameters(stored).type != Type.ID
    except InvalidHashError:
        return True


@functools.cache
def dummy_hash() -> str:
    """An argon2id hash of no one's password, with our parameters: verified when the account
    is unknown or has no password, so that answer takes as long as a wrong password."""
    return hash_password(secrets.token_urlsafe(32))
