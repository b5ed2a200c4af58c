"""What the registry's cache promises the login path: an edit made on another replica
shows within `cache_seconds`, and something new is seen at once (misses are not cached)."""

from __future__ import annotations

from typing import Any

import pytest

from shared.clock import FakeClock
from shared.registry import Connection, Registry, UnknownConnection


async def test_an_edit_on_another_replica_shows_once_the_cache_time_has_passed(db: Any) -> None:
    clock = FakeClock()
    editor, reader = Registry(db, 5.0, timer=clock.now), Registry(db, 5.0, timer=clock.now)
    await editor.save_connection(Connection(id="shop", display_name="Shop"))
    assert (await reader.connection("shop")).display_name == "Shop"

    await editor.save_connection(Connection(id="shop", display_name="Renamed shop"))
    assert (await editor.connection("shop")).display_name == "Renamed shop"  # its own edit
    clock.advance(4.9)
    assert (await reader.connection("shop")).display_name == "Shop"
    clock.advance(0.2)
    assert (await reader.connection("shop")).display_name == "Renamed shop"


async def test_a_connection_added_elsewhere_is_seen_at_once(db: Any) -> None:
    clock = FakeClock()
    editor, reader = Registry(db, 5.0, timer=clock.now), Registry(db, 5.0, timer=clock.now)
    with pytest.raises(UnknownConnection):
        await reader.connection("new-shop")
    await editor.save_connection(Connection(id="new-shop", display_name="New shop"))
    assert (await reader.connection("new-shop")).display_name == "New shop"


async def test_an_apps_connection_list_expires_or_is_read_fresh(db: Any) -> None:
    clock = FakeClock()
    editor, reader = Registry(db, 5.0, timer=clock.now), Registry(db, 5.0, timer=clock.now)
    await editor.save_connection(Connection(id="a", display_name="A", apps=["demo"]))
    assert [c.id for c in await reader.connections_for_app("demo")] == ["a"]

    await editor.save_connection(Connection(id="b", display_name="B", apps=["demo"]))
    assert [c.id for c in await reader.connections_for_app("demo")] == ["a"]  # cached
    clock.advance(5.1)
    assert [c.id for c in await reader.connections_for_app("demo")] == ["a", "b"]

    await editor.save_connection(Connection(id="c", display_name="C", apps=["demo"]))
    assert [c.id for c in await reader.connections_for_app("demo", fresh=True)] == ["a", "b", "c"]
