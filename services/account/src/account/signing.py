"""The RS256 key that signs ID tokens and the JWKS that publishes it (what verifies ID
tokens); the HMAC key that signs access tokens.

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


def public_jwk(key: rsa.RSAPublicKey) -> dict[str, str]:
    """The key as a JWK, with its RFC 7638 thumbprint as `kid` (the same key always has the
    same kid, across restarts and replicas)."""
    pub = key.public_numbers()
    jwk = {"kty": "RSA", "e": _b64(pub.e), "n": _b64(pub.n)}
    canonical = json.dumps(jwk, separators=(",", ":"), sort_keys=True).encode()
    kid = base64.urlsafe_b64encode(hashlib.sha256(canonical).digest()).rstrip(b"=").decode()
    return {**jwk, "kid": kid, "use": "sig", "alg": "RS256"}


def _load_pem(path: str, setting: str) -> rsa.RSAPublicKey | rsa.RSAPrivateKey:
    data = Path(path).read_bytes()
    try:
        key: object = (
            serialization.load_pem_public_key(data)
            if b"PUBLIC KEY" in data
            else serialization.load_pem_private_key(data, password=None)
        )
    except ValueError as exc:
        raise ValueError(f"{setting}: {path} is not a PEM key") from exc
    if not isinstance(key, rsa.RSAPublicKey | rsa.RSAPrivateKey):
        raise ValueError(f"{setting}: {path} must hold an RSA key")
    return key


def _public(key: rsa.RSAPublicKey | rsa.RSAPrivateKey) -> rsa.RSAPublicKey:
    return key.public_key() if isinstance(key, rsa.RSAPrivateKey) else key


class SigningKey:
    """Signs with one private key; the JWKS also publishes `published` public keys, which
    never sign: the next key before it takes over, the previous one until the tokens it
    signed have expired. That is how a rotation passes without a failed verification."""

    def __init__(
        self, private_key: rsa.RSAPrivateKey, published: list[rsa.RSAPublicKey] | None = None
    ) -> None:
        self._key = private_key
        current = public_jwk(private_key.public_key())
        self.kid = current["kid"]
        others = [public_jwk(k) for k in published or []]
        unique = {jwk["kid"]: jwk for jwk in others if jwk["kid"] != self.kid}
        self._jwks = {"keys": [current, *unique.values()]}

    @classmethod
    def load_or_generate(cls, path: str, published: tuple[str, ...] = ()) -> SigningKey:
        """Production reads a PEM file shared by all replicas; development makes a fresh key.
        `published`: PEM files (public or private keys) to publish beside it."""
        extra = [_public(_load_pem(p, "ML_JWT_PUBLISHED_KEY_FILES")) for p in published]
        if path:
            key = _load_pem(path, "ML_JWT_PRIVATE_KEY_FILE")
            if not isinstance(key, rsa.RSAPrivateKey):
                raise ValueError("ML_JWT_PRIVATE_KEY_FILE must hold an RSA private key")
            return cls(key, extra)
        return cls(rsa.generate_private_key(public_exponent=65537, key_size=2048), extra)

    def jwks(self) -> dict[str, Any]:
        return self._jwks

    def sign(self, claims: dict[str, Any]) -> str:
        return jwt.encode(claims, self._key, algorithm="RS256", headers={"kid": self.kid})

    def read_id_token(self, token: str, *, issuer: str) -> dict[str, Any]:
        """The claims of an ID token we signed (under any key the JWKS publishes), its expiry
        not checked: RP-initiated logout takes an expired one as its hint. Raises
        jwt.PyJWTError for anything else."""
        kid = jwt.get_unverified_header(token).get("kid")
        jwk = next((k for k in self._jwks["keys"] if k["kid"] == kid), None)
        if jwk is None:
            raise jwt.InvalidKeyError("No published key has this kid.")
        claims: dict[str, Any] = jwt.decode(
            token,
            jwt.PyJWK(jwk).key,
            algorithms=["RS256"],
            issuer=issuer,
            options={"verify_exp": False, "verify_aud": False, "require": ["iss", "sub", "aud"]},
        )
        return claims


class AccessTokenKey:
    ALGORITHM = "HS256"

    def __init__(self, secret_key: str, previous: tuple[str, ...] = ()) -> None:
        # A key of its own, so an access token can never pass for anything else we sign;
        # tokens under a previous ML_SECRET_KEY still verify during a rotation.
        self._keys = [_derive(k) for k in (secret_key, *previous)]

    def sign(self, claims: dict[str, Any]) -> str:
        return jwt.encode(claims, self._keys[0], algorithm=self.ALGORITHM)

    def verify(self, token: str, *, audience: str, issuer: str) -> dict[str, Any]:
        for key in self._keys:
            try:
                claims: dict[str, Any] = jwt.decode(
                    token,
                    key,
                    algorithms=[self.ALGORITHM],
                    audience=audience,
                    issuer=issuer,
                    options={"require": ["exp", "iat", "sub", "aud", "iss"]},
                )
            except jwt.InvalidSignatureError:
                continue  # perhaps under a previous key
            return claims
        raise jwt.InvalidSignatureError("Signature verification failed")


def _derive(secret_key: str) -> bytes:
    return hmac.digest(secret_key.encode(), b"minilogin access token v1", "sha256")
