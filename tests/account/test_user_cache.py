"""A returning user's binding costs no database read: the identity a replica has seen is
cached, for `cache_seconds` and up to `cache_entries` users; the account itself is read
again by a login at most every `recheck_seconds`."""

from __future__ import annotations

from typing import Any

from account.users import Outcome, UserStore, WeChatIdentity
from shared.clock import FakeClock
from shared.registry import Connection

SHOP = Connection(id="shop", display_name="Shop")


def _who(openid: str) -> WeChatIdentity:
    return WeChatIdentity(openid, None, None, f"nick-{openid}", None)


async def _rebind(db: Any, openid: str, user_id: str) -> None:
    """An operator moves an identity to another account, directly in the database."""
    await db["identities"].update_one({"openid": openid}, {"$set": {"user_id": user_id}})


async def test_a_moved_identity_shows_once_the_cache_time_has_passed(db: Any) -> None:
    clock = FakeClock()
    store = UserStore(db, cache_seconds=300.0, timer=clock.now, clock=clock.now)
    first = await store.resolve(SHOP, _who("o-zhang"), clock.now())
    assert first.outcome == Outcome.SUCCEEDED
    assert first.created
    await _rebind(db, "o-zhang", "u_moved")

    clock.advance(299)
    assert (await store.resolve(SHOP, _who("o-zhang"), clock.now())).user_id == first.user_id
    clock.advance(2)
    assert (await store.resolve(SHOP, _who("o-zhang"), clock.now())).user_id == "u_moved"


async def test_an_edited_account_is_read_again_by_a_login_after_the_recheck_time(
    db: Any,
) -> None:
    clock = FakeClock()
    store = UserStore(db, recheck_seconds=5.0, timer=clock.now, clock=clock.now)
    first = await store.resolve(SHOP, _who("o-zhang"), clock.now())
    await db["users"].update_one({"_id": first.user_id}, {"$set": {"nickname": "edited"}})

    clock.advance(4)
    await store.resolve(SHOP, _who("o-zhang"), clock.now())
    assert (await store.get_user(first.user_id) or {})["nickname"] == "nick-o-zhang"
    clock.advance(2)
    await store.resolve(SHOP, _who("o-zhang"), clock.now())
    # Read again, and kept: the login brought the nickname WeChat gave before, unchanged.
    assert (await store.get_user(first.user_id) or {})["nickname"] == "edited"


async def test_past_its_bound_the_cache_reads_the_least_recent_user_again(db: Any) -> None:
    clock = FakeClock()
    store = UserStore(db, cache_seconds=300.0, cache_entries=2, timer=clock.now)
    for openid in ("o-a", "o-b", "o-c"):
        await store.resolve(SHOP, _who(openid), clock.now())
    for openid in ("o-a", "o-c"):
        await _rebind(db, openid, f"u_moved_{openid}")

    assert (await store.resolve(SHOP, _who("o-a"), clock.now())).user_id == "u_moved_o-a"
    assert (await store.resolve(SHOP, _who("o-c"), clock.now())).user_id != "u_moved_o-c"
