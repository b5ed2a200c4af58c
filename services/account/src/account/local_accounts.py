"""Local accounts: users someone can sign in to with an email address or a phone number and a
password, beside (or instead of) WeChat identities. They live in the same `users` collection
as the accounts WeChat logins create, with these fields:

- `email`: lower case, unique among all users (WeChat gives no email, so only we write it);
- `phone`: E.164 ("+8613800001111"), unique among local accounts. Accounts a WeChat login
  created keep the number as WeChat gave it ("13800001111", "+1 4155550199") and no
  uniqueness: one person's two WeChat identities may carry the same number. The token's
  `phone_number` claim reads both forms (claims.e164);
- `local`: true on every user this module gave an email, phone or password to;
- `name`, `password_hash` (never returned by any API), `disabled`, `updated_at`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from pymongo import ASCENDING, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from account.claims import e164
from account.users import new_user_id
from shared.clock import Clock
from shared.errors import Conflict

# A practical check, not RFC 5322: one @, no spaces, a dot in the domain. The address is
# an identifier here; nothing is sent to it.
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s.]+(\.[^@\s.]+)+$")
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
_PHONE_SEPARATORS = re.compile(r"[\s\-().]")
PHONE_INDEX = "local_phone"


class IdentifierTaken(Conflict):
    code = "identifier_taken"
    message = "Another user already has this email address or phone number."


def normalize_email(value: str) -> str:
    """The address as stored and compared: trimmed, lower case. Raises ValueError."""
    email = value.strip().lower()
    if len(email) > 254 or not _EMAIL.match(email):
        raise ValueError("not an email address")
    return email


def normalize_phone(value: str) -> str:
    """The number in E.164. A number without a country code is taken as mainland China's, as
    WeChat gives those. Raises ValueError."""
    raw = value.strip()
    if not raw or not _PHONE_SEPARATORS.sub("", raw).lstrip("+").isdigit():
        raise ValueError("not a phone number")
    phone = e164(raw)
    if not _E164.match(phone):
        raise ValueError("not a phone number (E.164: + country code and number, 15 digits max)")
    return phone


def login_filter(login: str) -> dict[str, Any] | None:
    """The query finding the local account `login` (an email address or a phone number)
    names, or None when it is neither."""
    try:
        if "@" in login:
            return {"email": normalize_email(login)}
        return {"phone": normalize_phone(login), "local": True}
    except ValueError:
        return None


def canonical_login(login: str) -> str:
    """One spelling per account: the normalised email or E.164 number (the throttle counts
    "13800001111" and "+86 138 0000 1111" as the same account), else the text lower-cased."""
    query = login_filter(login)
    if query is None:
        return login.strip().lower()
    return str(query.get("email") or query["phone"])


def phone_forms(phone: str) -> list[str]:
    """The ways `phone` (E.164) may be stored: as we write it, and as WeChat gives a mainland
    China number (without its country code)."""
    forms = [phone]
    if phone.startswith("+86"):
        forms.append(phone[3:])
    return forms


class LocalAccounts:
    def __init__(self, db: AsyncDatabase[dict[str, Any]], clock: Clock) -> None:
        self.users = db["users"]
        self.identities = db["identities"]
        self.clock = clock

    async def ensure_indexes(self) -> None:
        await self.users.create_index("email", unique=True, sparse=True)
        # Unique among local accounts only: the existing index on `phone` (users.py) stays as
        # it is for the numbers WeChat logins store. A key of its own, so no server sees two
        # indexes on one key pattern.
        await self.users.create_index(
            [("phone", ASCENDING), ("local", ASCENDING)],
            name=PHONE_INDEX,
            unique=True,
            partialFilterExpression={"local": True, "phone": {"$exists": True}},
        )

    async def _taken(self, fields: dict[str, Any], user_id: str | None) -> IdentifierTaken:
        """Which of `fields`' identifiers another user holds (after a duplicate key error)."""
        for name, query in (
            ("email", {"email": fields.get("email")}),
            ("phone", {"phone": fields.get("phone"), "local": True}),
        ):
            if fields.get(name) is None:
                continue
            other = await self.users.find_one(query, {"_id": 1})
            if other is not None and other["_id"] != user_id:
                what = "email address" if name == "email" else "phone number"
                return IdentifierTaken(
                    f"Another user already has this {what}.", details=[{"field": name}]
                )
        return IdentifierTaken()

    async def create(self, fields: dict[str, Any]) -> dict[str, Any]:
        """Insert a local account with `fields` (normalised already). Raises IdentifierTaken."""
        now = self.clock.now()
        user = {
            "_id": new_user_id(),
            "created_at": now,
            "updated_at": now,
            "local": True,
            "disabled": False,
            **{k: v for k, v in fields.items() if v is not None},
        }
        try:
            await self.users.insert_one(user)
        except DuplicateKeyError as exc:
            raise await self._taken(user, None) from exc
        return user

    async def get(self, user_id: str) -> dict[str, Any] | None:
        return await self.users.find_one({"_id": user_id})

    async def find_by_login(self, login: str) -> dict[str, Any] | None:
        query = login_filter(login)
        return None if query is None else await self.users.find_one(query)

    async def replace_hash(self, user_id: str, old: str, new: str) -> bool:
        """Swap the password hash if it is still `old` (a change made meanwhile wins)."""
        result = await self.users.update_one(
            {"_id": user_id, "password_hash": old},
            {"$set": {"password_hash": new, "updated_at": self.clock.now()}},
        )
        return result.modified_count == 1

    async def update(
        self, user_id: str, set_fields: dict[str, Any], unset: Iterable[str] = ()
    ) -> dict[str, Any] | None:
        """Change a user's fields; None if there is no such user. Raises IdentifierTaken."""
        change: dict[str, Any] = {"$set": {**set_fields, "updated_at": self.clock.now()}}
        if {"email", "phone", "password_hash"} & set(set_fields):
            change["$set"]["local"] = True
        if unset:
            change["$unset"] = dict.fromkeys(unset, "")
        try:
            return await self.users.find_one_and_update(
                {"_id": user_id}, change, return_document=ReturnDocument.AFTER
            )
        except DuplicateKeyError as exc:
            raise await self._taken(set_fields, user_id) from exc

    async def identities_of(self, user_id: str) -> list[dict[str, Any]]:
        cursor = self.identities.find({"user_id": user_id}, {"_id": 0}).sort(
            [("connection_id", ASCENDING), ("openid", ASCENDING)]
        )
        return [doc async for doc in cursor]

    async def delete(self, user_id: str) -> list[dict[str, Any]] | None:
        """Erase the user and every identity bound to them; the identities removed, or None if
        there was no such user. Identities go first: a crash in between leaves a user with
        fewer identities, never an identity whose login leads to nobody."""
        identities = await self.identities_of(user_id)
        await self.identities.delete_many({"user_id": user_id})
        result = await self.users.delete_one({"_id": user_id})
        if result.deleted_count == 0 and not identities:
            return None
        return identities

    async def unlink(self, user_id: str, connection_id: str, openid: str) -> bool:
        result = await self.identities.delete_one(
            {"user_id": user_id, "connection_id": connection_id, "openid": openid}
        )
        return result.deleted_count == 1
