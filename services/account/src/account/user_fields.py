"""What the operators' users API accepts for a user (create, import line, patch) and what it
answers about one. A password hash never leaves: only whether there is one."""

from __future__ import annotations

from typing import Any, ClassVar, Self

from pydantic import ConfigDict, Field, field_validator, model_validator

from account.admin import _NoNulls
from account.claims import e164
from account.local_accounts import normalize_email, normalize_phone
from account.passwords import MAX_PASSWORD_CHARS, UnsupportedHash, scheme_of

MIN_PASSWORD_CHARS = 8


class _UserFields(_NoNulls):
    model_config = ConfigDict(extra="forbid")

    email: str | None = Field(default=None, max_length=254)
    # E.164 ("+8613800001111"); without a country code, a mainland China number.
    phone: str | None = Field(default=None, max_length=32)
    phone_verified: bool | None = None
    name: str | None = Field(default=None, min_length=1, max_length=64)
    # A hash made elsewhere (argon2, bcrypt, $scrypt$): kept until the first sign-in.
    password_hash: str | None = Field(default=None, max_length=512)

    @field_validator("email")
    @classmethod
    def _email(cls, v: str | None) -> str | None:
        return None if v is None else normalize_email(v)

    @field_validator("phone")
    @classmethod
    def _phone(cls, v: str | None) -> str | None:
        return None if v is None else normalize_phone(v)

    @field_validator("password_hash")
    @classmethod
    def _hash(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                scheme_of(v)
            except UnsupportedHash as exc:
                raise ValueError(str(exc)) from exc
        return v


class _NewUser(_UserFields):
    disabled: bool | None = None

    @model_validator(mode="after")
    def _reachable(self) -> Self:
        if self.email is None and self.phone is None:
            raise ValueError("a local account needs an email or a phone")
        return self


class UserCreate(_NewUser):
    password: str | None = Field(
        default=None, min_length=MIN_PASSWORD_CHARS, max_length=MAX_PASSWORD_CHARS
    )

    @model_validator(mode="after")
    def _one_password(self) -> Self:
        if self.password is not None and self.password_hash is not None:
            raise ValueError("send password or password_hash, not both")
        return self


class UserImportLine(_NewUser):
    """One line of a bulk import. No plain passwords: a file of them is one to leak, and
    hashing each would make an import of thousands take minutes."""


class UserPatch(_UserFields):
    NULLABLE: ClassVar[frozenset[str]] = frozenset({"email", "phone", "name", "password"})

    # null removes the password (the account is then reached only through WeChat).
    password: str | None = Field(
        default=None, min_length=MIN_PASSWORD_CHARS, max_length=MAX_PASSWORD_CHARS
    )

    @model_validator(mode="after")
    def _one_password(self) -> Self:
        if {"password", "password_hash"} <= self.model_fields_set:
            raise ValueError("send password or password_hash, not both")
        return self


def user_out(user: dict[str, Any]) -> dict[str, Any]:
    phone = user.get("phone")
    return {
        "id": user["_id"],
        "email": user.get("email"),
        "phone": e164(phone) if phone else None,
        "phone_verified": bool(user.get("phone_verified")),
        "name": user.get("name"),
        "nickname": user.get("nickname"),
        "avatar_url": user.get("avatar_url"),
        "has_password": bool(user.get("password_hash")),
        "disabled": bool(user.get("disabled")),
        "created_at": user.get("created_at"),
        "updated_at": user.get("updated_at"),
    }


def identity_out(identity: dict[str, Any]) -> dict[str, Any]:
    return {
        "connection_id": identity["connection_id"],
        "openid": identity["openid"],
        "unionid": identity.get("unionid"),
        "created_at": identity.get("created_at"),
        "last_login_at": identity.get("last_login_at"),
    }
