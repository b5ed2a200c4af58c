"""Users and their WeChat identities in MongoDB, and the connection's account policy.

Hot path for a returning user: the identity's binding is cached (it changes only by an
operator's hand), the user's document is read again at most every `recheck_seconds` (a
disable takes effect within that bound, at once on the replica that calls `forget_user`),
and the login time is written behind, many logins to one bulk write each second. A new
user costs a lookup and two inserts. Unique indexes make concurrent or repeated logins
converge on one account.

One account per person: a unionid is stored on an identity the first time WeChat gives
it, so the next login through another connection of the same open-platform account finds
the same account. A unionid that already belongs to another account is never stored and
nothing is merged: the resolution names the conflict for the audit trail.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from cachetools import TTLCache
from pymongo import ASCENDING, UpdateOne
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError, PyMongoError

from account.claims import e164
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
    # The account that already holds the unionid this login brought, when it is not
    # `user_id`'s: kept apart, nothing merged; the caller records it in the audit trail.
    unionid_conflict: str = ""


@dataclass(frozen=True)
class WeChatIdentity:
    openid: str
    unionid: str | None
    phone: str | None
    nickname: str | None
    avatar_url: str | None


@dataclass(frozen=True)
class _Bound:
    """What is cached of an identity: its account, the unionid it is known by (stored, or
    refused as another account's: checked once), and digests of the nickname and avatar
    WeChat last gave through it (None: not recorded yet), so only a change there is
    written to the account and an operator's edit is not undone by every login."""

    user_id: str
    unionid: str | None
    seen: Mapping[str, str] | None = None


@dataclass(frozen=True)
class _Read:
    """A user's document and when (wall clock) it was read or written here."""

    at: float
    user: dict[str, Any]


_BOUND_FIELDS = {"user_id": 1, "unionid": 1, "conflicting_unionid": 1, "profile_seen": 1}
# What a login may refresh on the account, as WeChat hands it to the phone.
PROFILE_FIELDS = ("nickname", "avatar_url")


def new_user_id() -> str:
    return "u_" + ids.random_base62(20)


def _bound(doc: dict[str, Any]) -> _Bound:
    return _Bound(
        doc["user_id"],
        doc.get("unionid") or doc.get("conflicting_unionid"),
        doc.get("profile_seen"),
    )


def _digest(value: str) -> str:
    return ids.sha256_hex(value)[:16]


def _seen(who: WeChatIdentity) -> dict[str, str]:
    """Digests of the profile fields this login brought."""
    return {name: _digest(v) for name in PROFILE_FIELDS if (v := getattr(who, name))}


class UserStore:
    def __init__(
        self,
        db: AsyncDatabase[dict[str, Any]],
        cache_seconds: float = 300.0,
        cache_entries: int = 100_000,
        *,
        recheck_seconds: float = 5.0,
        timer: Callable[[], float] = time.monotonic,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """`timer` measures the cache's expiry, `clock` is the wall clock logins and grants
        are timed by (tests pass a fake clock's `now` for both)."""
        self.users = db["users"]
        self.identities = db["identities"]
        self.recheck_seconds = recheck_seconds
        self._clock = clock
        # The expiry bounds how long an edit made directly in the database takes to show.
        self._accounts: TTLCache[tuple[str, str], _Bound] = TTLCache(
            cache_entries, cache_seconds, timer
        )
        self._profiles: TTLCache[str, _Read] = TTLCache(cache_entries, cache_seconds, timer)
        self._login_times: dict[tuple[str, str], float] = {}

    async def ensure_indexes(self) -> None:
        await self.identities.create_index(
            [("connection_id", ASCENDING), ("openid", ASCENDING)], unique=True
        )
        await self.identities.create_index("unionid", sparse=True)
        await self.identities.create_index("user_id")
        await self.users.create_index("phone", sparse=True)

    async def get_user(self, user_id: str, *, since: float | None = None) -> dict[str, Any] | None:
        """The user's document (do not change it: it may be the cached copy). `since`: only
        a copy read at or after that time will do (a login's auth_time: a profile another
        replica refreshed during that login shows in its tokens)."""
        read = self._profiles.get(user_id)
        if read is None or (since is not None and read.at < since):
            return await self._read_user(user_id, self._clock())
        return read.user

    async def _read_user(self, user_id: str, now: float) -> dict[str, Any] | None:
        user = await self.users.find_one({"_id": user_id})
        if user is not None:
            self._profiles[user_id] = _Read(now, user)
        return user

    async def _current_user(self, user_id: str, now: float) -> dict[str, Any] | None:
        """The user's document as a login must see it: read again once the cached copy is
        older than `recheck_seconds` (a disable, an operator's edit)."""
        read = self._profiles.get(user_id)
        if read is None or now - read.at > self.recheck_seconds:
            return await self._read_user(user_id, now)
        return read.user

    def forget_user(self, user_id: str) -> None:
        """Drop what this replica cached of the user (the admin API disabled, edited or
        deleted them): the next login reads them again."""
        self._profiles.pop(user_id, None)
        for key in [k for k, b in self._accounts.items() if b.user_id == user_id]:
            self._accounts.pop(key, None)

    async def account_of(
        self, connection_id: str, openid: str, unionid: str | None
    ) -> dict[str, Any] | None:
        """The user a WeChat user logs in to, if they have one already: bound through this
        connection, or found by unionid through another, as `resolve` finds them (field
        matching needs the phone number, not known before the confirm). Nothing is bound or
        created; None for someone new. Do not change the document (a cached copy)."""
        bound = self._accounts.get((connection_id, openid))
        user_id = bound.user_id if bound else None
        if user_id is None:
            hit = await self.identities.find_one(
                {"connection_id": connection_id, "openid": openid}, _BOUND_FIELDS
            )
            if hit:
                user_id = hit["user_id"]
                self._accounts[connection_id, openid] = _bound(hit)
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
        key = (conn.id, who.openid)
        bound = self._accounts.get(key)
        if bound is None:
            hit = await self.identities.find_one(
                {"connection_id": conn.id, "openid": who.openid}, _BOUND_FIELDS
            )
            if hit:
                bound = self._accounts[key] = _bound(hit)
        if bound is not None:
            return await self._returning(key, bound, who, now)
        # 2. The same person (same unionid) is known through another connection.
        user_id: str | None = None
        if who.unionid:
            other = await self.identities.find_one({"unionid": who.unionid}, {"user_id": 1})
            user_id = other["user_id"] if other else None
        # 3. Field matching: an existing account with the verified phone number (WeChat gives
        # no email, so the phone is the one field there is to match).
        if user_id is None and conn.association == Association.FIELD_MATCHING and who.phone:
            # As WeChat gives it ("13800001111") or as a local account holds it (E.164); a
            # local account first, then the oldest.
            match = await self.users.find_one(
                {"phone": {"$in": sorted({who.phone, e164(who.phone)})}},
                {"_id": 1},
                sort=[("local", -1), ("created_at", 1)],
            )
            user_id = match["_id"] if match else None
        if user_id is None and conn.association == Association.ASK_BINDING:
            return Resolution(Outcome.BINDING_REQUIRED, reason="no_account_bound")
        if user_id is None and conn.login_mode == LoginMode.LOGIN_ONLY:
            return Resolution(Outcome.FAILED, reason="account_not_found")
        existing: dict[str, Any] | None = None
        if user_id is not None:
            existing = await self._current_user(user_id, now)
            if existing is not None and existing.get("disabled"):
                # Refused before anything is bound to it.
                return Resolution(Outcome.FAILED, user_id, reason="user_disabled")
        created = user_id is None
        if user_id is None:
            user_id = new_user_id()
        winner = await self._insert_identity(conn, who, user_id, now)
        if winner is not None:
            # A concurrent delivery bound this identity first: use its account.
            return Resolution(Outcome.SUCCEEDED, winner["user_id"])
        if created:
            await self._insert_user(user_id, who, now)
        elif existing is not None:
            # Joined to an account that has its own profile: fill only what it lacks.
            fill = {n: v for n in PROFILE_FIELDS if (v := getattr(who, n)) and not existing.get(n)}
            await self._update_profile(existing, fill, now)
        self._accounts[key] = _Bound(user_id, who.unionid, _seen(who))
        return Resolution(Outcome.SUCCEEDED, user_id, created=created)

    async def _returning(
        self, key: tuple[str, str], bound: _Bound, who: WeChatIdentity, now: float
    ) -> Resolution:
        """A login through an identity bound before: its unionid stored if new, the account
        checked (disabled?) and its profile brought up to date."""
        conflict = ""
        if who.unionid and not bound.unionid:
            conflict = await self._attach_unionid(key, bound.user_id, who.unionid)
            self._accounts[key] = replace(bound, unionid=who.unionid)
        user = await self._current_user(bound.user_id, now)
        if user is not None and user.get("disabled"):
            return Resolution(
                Outcome.FAILED, bound.user_id, reason="user_disabled", unionid_conflict=conflict
            )
        if user is not None:
            seen = await self._refresh_profile(key, bound, user, who, now)
            if seen != bound.seen:
                self._accounts[key] = replace(self._accounts.get(key, bound), seen=seen)
        self._note_login(key, now)
        return Resolution(Outcome.SUCCEEDED, bound.user_id, unionid_conflict=conflict)

    async def _attach_unionid(self, key: tuple[str, str], user_id: str, unionid: str) -> str:
        """Store `unionid` on an identity first seen without one, unless another account
        holds it already: then the identity keeps its account, nothing is merged, the
        unionid is kept aside (so it is checked once) and that account's id returned."""
        connection_id, openid = key
        where = {"connection_id": connection_id, "openid": openid}
        other = await self.identities.find_one(
            {"unionid": unionid, "user_id": {"$ne": user_id}}, {"user_id": 1}
        )
        if other is not None:
            await self.identities.update_one(where, {"$set": {"conflicting_unionid": unionid}})
            log.warning(
                "unionid_conflict", user_id=user_id, other_user_id=other["user_id"], **where
            )
            return str(other["user_id"])
        await self.identities.update_one({**where, "unionid": None}, {"$set": {"unionid": unionid}})
        log.info("unionid_stored", user_id=user_id, connection_id=connection_id)
        return ""

    async def _refresh_profile(
        self,
        key: tuple[str, str],
        bound: _Bound,
        user: dict[str, Any],
        who: WeChatIdentity,
        now: float,
    ) -> Mapping[str, str] | None:
        """Nickname and avatar as this login brought them, where they changed at WeChat's
        side since this identity last brought them (a login that brings none leaves them
        be). An identity with nothing recorded compares with the account itself. Returns
        what is recorded now."""
        seen = dict(bound.seen or {})
        changes: dict[str, str] = {}
        for name, digest in _seen(who).items():
            if bound.seen is not None and bound.seen.get(name) == digest:
                continue  # unchanged at WeChat: an operator's edit stays
            seen[name] = digest
            value = getattr(who, name)
            if value != user.get(name):
                changes[name] = value
        if seen == (bound.seen or {}):
            return bound.seen
        await self._update_profile(user, changes, now)
        connection_id, openid = key
        await self.identities.update_one(
            {"connection_id": connection_id, "openid": openid}, {"$set": {"profile_seen": seen}}
        )
        return seen

    async def _update_profile(
        self, user: dict[str, Any], changes: dict[str, str], now: float
    ) -> None:
        """Write `changes` to the account; the cached copy is replaced, never changed in
        place (others may hold it)."""
        if not changes:
            return
        await self.users.update_one(
            {"_id": user["_id"]}, {"$set": {**changes, "profile_updated_at": now}}
        )
        self._profiles[user["_id"]] = _Read(now, {**user, **changes, "profile_updated_at": now})
        log.info("profile_refreshed", user_id=user["_id"], fields=sorted(changes))

    async def bind(self, conn: Connection, who: WeChatIdentity, user_id: str, now: float) -> str:
        """Bind `who`'s identity through `conn` to `user_id`, as the binding page asks once the
        person proved the account is theirs (or had one made). Returns the account the
        identity is bound to: another one if it was bound meanwhile (a second tab)."""
        key = (conn.id, who.openid)
        winner = await self._insert_identity(conn, who, user_id, now)
        if winner is not None:
            self._accounts[key] = _bound(winner)
            return str(winner["user_id"])
        self._accounts[key] = _Bound(user_id, who.unionid, _seen(who))
        log.info("identity_bound", user_id=user_id, connection_id=conn.id)
        return user_id

    async def create_for(self, who: WeChatIdentity, now: float) -> str:
        """A new account from what WeChat gave (the binding page's "create a new account");
        `bind` then binds the identity to it."""
        user_id = new_user_id()
        await self._insert_user(user_id, who, now)
        return user_id

    async def _insert_identity(
        self, conn: Connection, who: WeChatIdentity, user_id: str, now: float
    ) -> dict[str, Any] | None:
        """Record `who`'s identity through `conn` as bound to `user_id`. Returns None, or, where
        it was bound first by someone else (a concurrent delivery, a second tab), the record
        that won."""
        try:
            await self.identities.insert_one(
                {
                    "connection_id": conn.id,
                    "openid": who.openid,
                    "unionid": who.unionid,
                    "user_id": user_id,
                    "profile_seen": _seen(who),
                    "created_at": now,
                    "last_login_at": now,
                }
            )
        except DuplicateKeyError:
            winner = await self.identities.find_one(
                {"connection_id": conn.id, "openid": who.openid}, _BOUND_FIELDS
            )
            assert winner is not None
            return winner
        return None

    async def _insert_user(self, user_id: str, who: WeChatIdentity, now: float) -> None:
        """A new account `user_id` with the profile WeChat gave."""
        user = {
            "_id": user_id,
            "created_at": now,
            "nickname": who.nickname,
            "avatar_url": who.avatar_url,
            "phone": who.phone,
            "phone_verified": bool(who.phone),
        }
        await self.users.insert_one(user)
        self._profiles[user_id] = _Read(now, user)
