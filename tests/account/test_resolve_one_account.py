"""One account per person: a unionid joins identities across connections once it is known,
never merges two accounts, a login brings the account's nickname and avatar up to date, and
a disabled account is refused."""

from __future__ import annotations

from typing import Any

from account.users import Outcome, UserStore, WeChatIdentity
from shared.clock import FakeClock
from shared.registry import Association, Connection

SHOP = Connection(id="shop", display_name="Shop")
CAFE = Connection(id="cafe", display_name="Cafe")
MATCH = Connection(id="match", display_name="Match", association=Association.FIELD_MATCHING)


def _who(
    openid: str,
    unionid: str | None = None,
    *,
    nickname: str | None = None,
    avatar: str | None = None,
    phone: str | None = None,
) -> WeChatIdentity:
    return WeChatIdentity(openid, unionid, phone, nickname, avatar)


async def test_a_unionid_first_seen_later_is_stored_and_joins_the_next_connection(db: Any) -> None:
    clock = FakeClock()
    store = UserStore(db, timer=clock.now, clock=clock.now)
    first = await store.resolve(SHOP, _who("o-shop-li"), clock.now())
    assert first.created

    again = await store.resolve(SHOP, _who("o-shop-li", "un-li"), clock.now())
    assert again.user_id == first.user_id
    stored = await db["identities"].find_one({"openid": "o-shop-li"})
    assert stored["unionid"] == "un-li"

    # Another replica, nothing cached: the other connection finds the same account.
    elsewhere = await UserStore(db).resolve(CAFE, _who("o-cafe-li", "un-li"), clock.now())
    assert (elsewhere.outcome, elsewhere.user_id) == (Outcome.SUCCEEDED, first.user_id)
    assert not elsewhere.created
    assert await db["users"].count_documents({}) == 1


async def test_a_unionid_another_account_holds_is_not_stored_and_nothing_merges(db: Any) -> None:
    clock = FakeClock()
    store = UserStore(db, timer=clock.now, clock=clock.now)
    mine = await store.resolve(SHOP, _who("o-shop-li"), clock.now())
    theirs = await store.resolve(CAFE, _who("o-cafe-li", "un-li"), clock.now())
    assert theirs.user_id != mine.user_id

    clash = await store.resolve(SHOP, _who("o-shop-li", "un-li"), clock.now())

    assert (clash.outcome, clash.user_id) == (Outcome.SUCCEEDED, mine.user_id)
    assert clash.unionid_conflict == theirs.user_id
    kept = await db["identities"].find_one({"openid": "o-shop-li"})
    assert kept["unionid"] is None
    assert kept["conflicting_unionid"] == "un-li"
    assert kept["user_id"] == mine.user_id
    assert await db["users"].count_documents({}) == 2
    # Named once: the next login knows it already.
    later = await UserStore(db).resolve(SHOP, _who("o-shop-li", "un-li"), clock.now())
    assert (later.user_id, later.unionid_conflict) == (mine.user_id, "")


async def test_a_changed_nickname_and_avatar_are_stored_and_a_missing_one_changes_nothing(
    db: Any,
) -> None:
    clock = FakeClock()
    store = UserStore(db, timer=clock.now, clock=clock.now)
    first = await store.resolve(SHOP, _who("o-li", nickname="李雷", avatar="a1"), clock.now())

    await store.resolve(SHOP, _who("o-li", nickname="雷雷", avatar="a2"), clock.now())
    user = await store.get_user(first.user_id)
    assert (user or {})["nickname"] == "雷雷"
    assert (user or {})["avatar_url"] == "a2"
    assert (await db["users"].find_one({"_id": first.user_id}))["nickname"] == "雷雷"

    await store.resolve(SHOP, _who("o-li"), clock.now())
    assert (await db["users"].find_one({"_id": first.user_id}))["avatar_url"] == "a2"


async def test_a_profile_refreshed_on_another_replica_is_read_for_a_later_login(db: Any) -> None:
    clock = FakeClock()
    token_replica = UserStore(db, timer=clock.now, clock=clock.now)
    first = await token_replica.resolve(SHOP, _who("o-li", nickname="李雷"), clock.now())
    assert (await token_replica.get_user(first.user_id) or {})["nickname"] == "李雷"

    clock.advance(30)
    auth_time = clock.now()
    await UserStore(db, clock=clock.now).resolve(SHOP, _who("o-li", nickname="雷雷"), auth_time)

    fresh = await token_replica.get_user(first.user_id, since=auth_time)
    assert (fresh or {})["nickname"] == "雷雷"


async def test_a_disabled_user_is_refused_within_the_recheck_bound(db: Any) -> None:
    clock = FakeClock()
    store = UserStore(db, timer=clock.now, clock=clock.now, recheck_seconds=5)
    first = await store.resolve(SHOP, _who("o-li"), clock.now())
    await db["users"].update_one({"_id": first.user_id}, {"$set": {"disabled": True}})

    clock.advance(6)
    refused = await store.resolve(SHOP, _who("o-li"), clock.now())

    assert (refused.outcome, refused.reason) == (Outcome.FAILED, "user_disabled")
    assert refused.user_id == first.user_id


async def test_forgetting_a_user_makes_a_disable_take_effect_at_once(db: Any) -> None:
    clock = FakeClock()
    store = UserStore(db, timer=clock.now, clock=clock.now)
    first = await store.resolve(SHOP, _who("o-li"), clock.now())
    await db["users"].update_one({"_id": first.user_id}, {"$set": {"disabled": True}})

    store.forget_user(first.user_id)

    assert (await store.resolve(SHOP, _who("o-li"), clock.now())).reason == "user_disabled"


async def test_a_disabled_account_is_not_joined_by_unionid_or_phone(db: Any) -> None:
    clock = FakeClock()
    store = UserStore(db, timer=clock.now, clock=clock.now)
    first = await store.resolve(SHOP, _who("o-li", "un-li", phone="13800001111"), clock.now())
    await db["users"].update_one({"_id": first.user_id}, {"$set": {"disabled": True}})
    store.forget_user(first.user_id)

    by_unionid = await store.resolve(CAFE, _who("o-cafe-li", "un-li"), clock.now())
    by_phone = await store.resolve(MATCH, _who("o-match", phone="13800001111"), clock.now())

    assert by_unionid.reason == by_phone.reason == "user_disabled"
    assert await db["identities"].count_documents({}) == 1  # nothing bound to it


async def test_field_matching_finds_a_local_account_by_the_number_in_either_form(db: Any) -> None:
    clock = FakeClock()
    store = UserStore(db, timer=clock.now, clock=clock.now)
    await db["users"].insert_many(
        [
            {"_id": "u_wechat", "phone": "13800001111", "created_at": 1.0},
            {"_id": "u_local", "phone": "+8613800001111", "local": True, "created_at": 2.0},
        ]
    )

    found = await store.resolve(MATCH, _who("o-li", phone="13800001111"), clock.now())

    assert (found.outcome, found.user_id) == (Outcome.SUCCEEDED, "u_local")
    assert not found.created
