"""Users and their WeChat identities in MongoDB, and the connection's account policy.

Hot path for a returning user: no read at all once this replica has seen them (identities
and profiles are written once and never changed here, so they are cached), and the login
time is written behind, many logins to one bulk write each second. A new user costs a
lookup and two inserts. Unique indexes make concurrent or repeated logins converge on one
account.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from cachetools import TTLCache
from pymongo import ASCENDING, ReturnDocument, UpdateOne
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError, PyMongoError

from shared import ids, logs
from shared.registry import Association, Connection, LoginMode

log = logs.get(__name__)


class Outcome(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    BINDING_REQUIRED = "binding_required"


@dataclass(frozen=True)
class Resolution:
    outcome: Outcome
    user_id: str = ""
    created: bool = False
    reason: str = ""


@dataclass(frozen=True)
class WeChatIdentity:
    openid: str
    unionid: str | None
    phone: str | None
    nickname: str | None
    avatar_url: str | None


def new_user_id() -> str:
    return "u_" + ids.random_base62(20)


class UserStore:
    def __init__(
        self,
        db: AsyncDatabase[dict[str, Any]],
        cache_seconds: float = 300.0,
        cache_entries: int = 100_000,
        *,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        """`timer` measures the cache's expiry (tests pass a fake clock's `now`)."""
        self.users = db["users"]
        self.identities = db["identities"]
        # The expiry bounds how long an edit made directly in the database takes to show.
        self._accounts: TTLCache[tuple[str, str], str] = TTLCache(
            cache_entries, cache_seconds, timer
        )
        self._profiles: TTLCache[str, dict[str, Any]] = TTLCache(
            cache_entries, cache_seconds, timer
        )
        self._login_times: dict[tuple[str, str], float] = {}

    async def ensure_indexes(self) -> None:
        await self.identities.create_index(
            [("connection_id", ASCENDING), ("openid", ASCENDING)], unique=True
        )
        await self.identities.create_index("unionid", sparse=True)
        await self.identities.create_index("user_id")
        await self.users.create_index("phone", sparse=True)

    async def get_user(self, user_id: str) -> dict[str, Any] | None:
        """The user's document (do not change it: it may be the cached copy)."""
        user = self._profiles.get(user_id)
        if user is None:
            user = await self.users.find_one({"_id": user_id})
            if user is not None:
                self._profiles[user_id] = user
        return user

    async def account_of(
        self, connection_id: str, openid: str, unionid: str | None
    ) -> dict[str, Any] | None:
        """The user a WeChat user logs in to, if they have one already: bound through this
        connection, or found by unionid through another, as `resolve` finds them (field
        matching needs the phone number, not known before the confirm). Nothing is bound or
        created; None for someone new. Do not change the document (a cached copy)."""
        user_id = self._accounts.get((connection_id, openid))
        if user_id is None:
            hit = await self.identities.find_one(
                {"connection_id": connection_id, "openid": openid}, {"user_id": 1}
            )
            if hit:
                user_id = hit["user_id"]
                self._accounts[connection_id, openid] = hit["user_id"]
            elif unionid:
                # Not cached: `resolve` must still bind this connection's identity.
                other = await self.identities.find_one({"unionid": unionid}, {"user_id": 1})
                user_id = other["user_id"] if other else None
        return None if user_id is None else await self.get_user(user_id)

    def _note_login(self, key: tuple[str, str], now: float) -> None:
        """A returning user's login time, for `flush` to write (at most a second later with
        `write_behind` running; a crash loses that second's times, nothing else)."""
        self._login_times[key] = max(now, self._login_times.get(key, now))

    async def flush(self) -> None:
        """Write the noted login times: one bulk write, never moving a time backwards."""
        if not self._login_times:
            return
        pending, self._login_times = self._login_times, {}
        await self.identities.bulk_write(
            [
                UpdateOne({"connection_id": c, "openid": o}, {"$max": {"last_login_at": t}})
                for (c, o), t in pending.items()
            ],
            ordered=False,
        )

    async def write_behind(self, every: float = 1.0) -> None:
        """Flush the login times every `every` seconds until cancelled, then once more."""
        try:
            while True:
                await asyncio.sleep(every)
                try:
                    await self.flush()
                except PyMongoError as exc:
                    log.warning("login_times_not_recorded", error=str(exc))
        finally:
            await self.flush()

    async def resolve(self, conn: Connection, who: WeChatIdentity, now: float) -> Resolution:
        """Find, bind or create the account for `who` logging in through `conn`."""
        # 1. This WeChat user has logged in through this connection before.
        known = self._accounts.get((conn.id, who.openid))
        if known is not None:
            self._note_login((conn.id, who.openid), now)
            return Resolution(Outcome.SUCCEEDED, known)
        hit = await self.identities.find_one_and_update(
            {"connection_id": conn.id, "openid": who.openid},
            {"$set": {"last_login_at": now}},
            return_document=ReturnDocument.AFTER,
        )
        if hit:
            self._accounts[conn.id, who.openid] = hit["user_id"]
            return Resolution(Outcome.SUCCEEDED, hit["user_id"])
        # 2. The same person (same unionid) is known through another connection.
        user_id: str | None = None
        if who.unionid:
            other = await self.identities.find_one({"unionid": who.unionid})
            user_id = other["user_id"] if other else None
        # 3. Field matching: an existing account with the verified phone number.
        if user_id is None and conn.association == Association.FIELD_MATCHING and who.phone:
            match = await self.users.find_one({"phone": who.phone}, {"_id": 1})
            user_id = match["_id"] if match else None
        if user_id is None and conn.association == Association.ASK_BINDING:
            return Resolution(Outcome.BINDING_REQUIRED, reason="no_account_bound")
        if user_id is None and conn.login_mode == LoginMode.LOGIN_ONLY:
            return Resolution(Outcome.FAILED, reason="account_not_found")
        created = user_id is None
        if user_id is None:
            user_id = new_user_id()
        try:
            await self.identities.insert_one(
                {
                    "connection_id": conn.id,
                    "openid": who.openid,
                    "unionid": who.unionid,
                    "user_id": user_id,
                    "created_at": now,
                    "last_login_at": now,
                }
            )
        except DuplicateKeyError:
            # A concurrent delivery bound this identity first: use its account.
            winner = await self.identities.find_one(
                {"connection_id": conn.id, "openid": who.openid}
            )
            assert winner is not None
            return Resolution(Outcome.SUCCEEDED, winner["user_id"])
        if created:
            user = {
                "_id": user_id,
                "created_at": now,
                "nickname": who.nickname,
                "avatar_url": who.avatar_url,
                "phone": who.phone,
                "phone_verified": bool(who.phone),
            }
            await self.users.insert_one(user)
            self._profiles[user_id] = user
        self._accounts[conn.id, who.openid] = user_id
        return Resolution(Outcome.SUCCEEDED, user_id, created=created)
