"""A browser that is still connecting learns of a change to its ticket made meanwhile."""

from __future__ import annotations

from notifier.hub import Hub


def test_an_event_while_a_browser_joins_is_noted_for_that_ticket_only() -> None:
    hub = Hub()
    with hub.joining("t1") as mine, hub.joining("t2") as other:
        assert hub.event("t1") == []  # nobody subscribed yet: the event reaches no socket
    assert mine.changed
    assert not other.changed


def test_a_browser_that_has_joined_is_not_noted_any_more() -> None:
    hub = Hub()
    with hub.joining("t1") as join:
        pass
    hub.event("t1")
    assert not join.changed
