"""ID token keys: what the JWKS publishes, what signs, and a rotation without a failed
verification (the next key published before it signs, the old one kept until its tokens
have expired)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from account.settings import AccountSettings
from account.signing import AccessTokenKey, SigningKey

CLAIMS = {"iss": "https://login.example", "sub": "u_1", "aud": "demo", "iat": 1, "exp": 2**40}


def pem_file(tmp_path: Path, name: str, *, public: bool = False) -> tuple[Path, rsa.RSAPrivateKey]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    data = (
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        if public
        else key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    path = tmp_path / name
    path.write_bytes(data)
    return path, key


def verify(token: str, jwks: dict[str, Any]) -> dict[str, Any]:
    """What a relying party does: the key named by the token's kid, from the JWKS."""
    kid = jwt.get_unverified_header(token)["kid"]
    key = next(k for k in jwks["keys"] if k["kid"] == kid)
    claims: dict[str, Any] = jwt.decode(
        token, jwt.PyJWK(key).key, algorithms=["RS256"], audience="demo"
    )
    return claims


def test_a_rotation_keeps_every_token_verifiable(tmp_path: Path) -> None:
    old, _ = pem_file(tmp_path, "old.pem")
    new, _ = pem_file(tmp_path, "new.pem")
    before = SigningKey.load_or_generate(str(old))
    # Step 1: the new key is published while the old one still signs.
    announcing = SigningKey.load_or_generate(str(old), (str(new),))
    # Step 2: the new key signs; the old one stays published for its tokens.
    after = SigningKey.load_or_generate(str(new), (str(old),))

    token_before = before.sign(CLAIMS)
    assert announcing.kid == before.kid
    assert {k["kid"] for k in announcing.jwks()["keys"]} == {before.kid, after.kid}
    # A relying party that fetched the JWKS during step 1 verifies tokens of step 2 ...
    assert verify(after.sign(CLAIMS), announcing.jwks())["sub"] == "u_1"
    # ... and one that fetches it after step 2 still verifies a token from before.
    assert verify(token_before, after.jwks())["sub"] == "u_1"
    assert after.jwks()["keys"][0]["kid"] == after.kid  # the signing key comes first


def test_published_keys_never_sign_and_may_be_public_only(tmp_path: Path) -> None:
    current, _ = pem_file(tmp_path, "current.pem")
    extra, extra_key = pem_file(tmp_path, "extra.pub.pem", public=True)
    signing = SigningKey.load_or_generate(str(current), (str(extra), str(current)))
    token = signing.sign(CLAIMS)
    assert jwt.get_unverified_header(token)["kid"] == signing.kid
    # The signing key listed again as published appears once.
    assert len(signing.jwks()["keys"]) == 2
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, extra_key.public_key(), algorithms=["RS256"], audience="demo")


def test_a_file_that_is_not_an_rsa_key_stops_startup_with_the_setting_named(
    tmp_path: Path,
) -> None:
    current, _ = pem_file(tmp_path, "current.pem")
    junk = tmp_path / "junk.pem"
    junk.write_text("not a key")
    with pytest.raises(ValueError, match="ML_JWT_PUBLISHED_KEY_FILES"):
        SigningKey.load_or_generate(str(current), (str(junk),))
    public_only, _ = pem_file(tmp_path, "public.pem", public=True)
    with pytest.raises(ValueError, match="ML_JWT_PRIVATE_KEY_FILE"):
        SigningKey.load_or_generate(str(public_only))


def test_published_key_files_are_read_as_a_comma_separated_list() -> None:
    dev = {"ML_ENV": "development"}  # the built-in secrets are fine for parsing
    env = {"ML_JWT_PUBLISHED_KEY_FILES": " /keys/next.pem, /keys/old.pem ,", **dev}
    files = AccountSettings.from_env(env).jwt_published_key_files
    assert files == ("/keys/next.pem", "/keys/old.pem")
    assert AccountSettings.from_env(dev).jwt_published_key_files == ()


def test_access_tokens_under_the_previous_secret_key_verify_during_a_rotation() -> None:
    claims = {**CLAIMS, "aud": "https://login.example/oauth/userinfo"}
    token = AccessTokenKey("old-key").sign(claims)
    audience, issuer = str(claims["aud"]), str(claims["iss"])
    rotating = AccessTokenKey("new-key", ("old-key",))
    assert rotating.verify(token, audience=audience, issuer=issuer)["sub"] == "u_1"
    with pytest.raises(jwt.InvalidSignatureError):
        AccessTokenKey("new-key").verify(token, audience=audience, issuer=issuer)
