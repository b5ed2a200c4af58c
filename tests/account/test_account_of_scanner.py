"""Which existing account a scanner would log in to, looked up before they confirm: bound
through this connection or found by unionid through another; nothing bound or created."""

from __future__ import annotations

from typing import Any

from account.users import UserStore, WeChatIdentity
from shared.clock import FakeClock
from shared.registry import Association, Connection

SHOP = Connection(id="shop", display_name="Shop")
CAFE = Connection(id="cafe", display_name="Cafe", association=Association.ASK_BINDING)


async def test_a_returning_user_is_found_and_a_new_one_is_not(db: Any) -> None:
    clock = FakeClock()
    store = UserStore(db, timer=clock.now)
    first = await store.resolve(SHOP, WeChatIdentity("o-li", None, None, "李雷", None), clock.now())

    user = await store.account_of("shop", "o-li", None)
    assert user is not None
    assert (user["_id"], user["nickname"]) == (first.user_id, "李雷")
    # Looked up by a fresh replica too (nothing cached), and nobody else is.
    assert (await UserStore(db).account_of("shop", "o-li", None) or {})["_id"] == first.user_id
    assert await store.account_of("shop", "o-han", None) is None
    assert await store.account_of("cafe", "o-li", None) is None
    assert await db["users"].count_documents({}) == 1


async def test_a_user_known_by_unionid_elsewhere_is_found_and_still_bound_at_login(
    db: Any,
) -> None:
    clock = FakeClock()
    store = UserStore(db, timer=clock.now)
    first = await store.resolve(
        SHOP, WeChatIdentity("o-shop-li", "u-li", None, "李雷", None), clock.now()
    )

    user = await store.account_of("cafe", "o-cafe-li", "u-li")
    assert (user or {})["_id"] == first.user_id
    assert await db["identities"].count_documents({}) == 1  # the lookup bound nothing
    # The login itself binds this connection's identity to the same account.
    later = await store.resolve(
        CAFE, WeChatIdentity("o-cafe-li", "u-li", None, None, None), clock.now()
    )
    assert later.user_id == first.user_id
    assert await db["identities"].count_documents({"user_id": first.user_id}) == 2
