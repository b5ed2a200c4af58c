"""Random identifiers and secrets. Everything unguessable comes from here."""

from __future__ import annotations

import hashlib
import random
import secrets
import string

_BASE62 = string.digits + string.ascii_letters


def random_base62(length: int) -> str:
    """`length` characters from [0-9A-Za-z]: 22 characters carry ~131 bits.

    One read of the system's randomness, then base conversion (exactly uniform: the
    number is drawn below 62**length)."""
    n = secrets.randbelow(62**length)
    out = []
    for _ in range(length):
        n, digit = divmod(n, 62)
        out.append(_BASE62[digit])
    return "".join(out)


TICKET_ID_LENGTH = 22
# What ticket_id() makes, for routes and request models that accept one.
TICKET_ID_PATTERN = f"[0-9A-Za-z]{{{TICKET_ID_LENGTH}}}"


def ticket_id() -> str:
    # Fits WeChat's 32-character `scene` and its character set without escaping.
    return random_base62(TICKET_ID_LENGTH)


def secret_token() -> str:
    """A bearer secret (browser binding, authorization code, scan session): 256 bits."""
    return secrets.token_urlsafe(32)


def sha256_hex(value: str) -> str:
    """Secrets are stored hashed, so a leaked Redis dump cannot replay them."""
    return hashlib.sha256(value.encode()).hexdigest()


# Ids that name things but guard nothing (events, traces, requests) come from a fast
# generator seeded from the system once per process: a system call per id showed up at
# several per cent of a busy service.
_FAST = random.Random(secrets.randbits(256))  # noqa: S311  # these ids are not secrets


def event_id() -> str:
    return f"{_FAST.getrandbits(128):032x}"


def trace_id() -> str:
    return f"{_FAST.getrandbits(128):032x}"
