"""The RS256 key that signs ID tokens and the JWKS that publishes it; the HMAC key that
signs access tokens.

An access token is read by nobody but this issuer (its audience is our userinfo endpoint),
so it needs no public-key signature: HS256 under a key derived from ML_SECRET_KEY costs
17 µs to sign where RS256 costs 310 µs, and a login signs two tokens. Clients treat it
as opaque, as OAuth 2.0 asks them to."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


def _b64(n: int) -> str:
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class SigningKey:
    def __init__(self, private_key: rsa.RSAPrivateKey) -> None:
        self._key = private_key
        pub = private_key.public_key().public_numbers()
        self._jwk = {"kty": "RSA", "e": _b64(pub.e), "n": _b64(pub.n)}
        # RFC 7638 thumbprint: stable across restarts for the same key.
        canonical = json.dumps(self._jwk, separators=(",", ":"), sort_keys=True).encode()
        self.kid = (
            base64.urlsafe_b64encode(hashlib.sha256(canonical).digest()).rstrip(b"=").decode()
        )

    @classmethod
    def load_or_generate(cls, path: str) -> SigningKey:
        """Production reads a PEM file shared by all replicas; development makes a fresh key."""
        if path:
            key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
            if not isinstance(key, rsa.RSAPrivateKey):
                raise ValueError("ML_JWT_PRIVATE_KEY_FILE must hold an RSA private key")
            return cls(key)
        return cls(rsa.generate_private_key(public_exponent=65537, key_size=2048))

    def jwks(self) -> dict[str, Any]:
        return {"keys": [{**self._jwk, "kid": self.kid, "use": "sig", "alg": "RS256"}]}

    def sign(self, claims: dict[str, Any]) -> str:
        return jwt.encode(claims, self._key, algorithm="RS256", headers={"kid": self.kid})


class AccessTokenKey:
    ALGORITHM = "HS256"

    def __init__(self, secret_key: str) -> None:
        # A key of its own, so an access token can never pass for anything else we sign.
        self._key = hmac.digest(secret_key.encode(), b"minilogin access token v1", "sha256")

    def sign(self, claims: dict[str, Any]) -> str:
        return jwt.encode(claims, self._key, algorithm=self.ALGORITHM)

    def verify(self, token: str, *, audience: str, issuer: str) -> dict[str, Any]:
        claims: dict[str, Any] = jwt.decode(
            token,
            self._key,
            algorithms=[self.ALGORITHM],
            audience=audience,
            issuer=issuer,
            options={"require": ["exp", "iat", "sub", "aud", "iss"]},
        )
        return claims
