"""The bounded expiring cache behind the registry and the account lookups."""

from __future__ import annotations

from shared.clock import FakeClock
from shared.ttlcache import TtlCache


def test_an_entry_is_served_until_it_expires() -> None:
    clock = FakeClock()
    cache: TtlCache[str, int] = TtlCache(10, 100, clock=clock.now)
    cache.put("a", 1)
    clock.advance(9.9)
    assert cache.get("a") == 1
    clock.advance(0.2)
    assert cache.get("a") is None
    assert len(cache) == 0


def test_the_oldest_entries_make_room_past_the_bound() -> None:
    cache: TtlCache[int, int] = TtlCache(60, 3)
    for i in range(5):
        cache.put(i, i)
    assert [cache.get(i) for i in range(5)] == [None, None, 2, 3, 4]


def test_writing_an_entry_again_makes_it_the_newest() -> None:
    cache: TtlCache[str, int] = TtlCache(60, 2)
    cache.put("a", 1)
    cache.put("b", 2)
    cache.put("a", 3)
    cache.put("c", 4)
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (3, None, 4)
