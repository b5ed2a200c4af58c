"""AMQP topic matching, which the in-memory bus uses to route like RabbitMQ."""

from __future__ import annotations

import pytest

from shared.bus.base import topic_matches


@pytest.mark.parametrize(
    ("pattern", "key", "matches"),
    [
        ("ticket.issued", "ticket.issued", True),
        ("ticket.issued", "ticket.scanned", False),
        ("ticket.*", "ticket.issued", True),
        ("ticket.*", "login.succeeded", False),
        ("ticket.*", "ticket", False),
        ("ticket.*", "ticket.issued.v2", False),
        ("*.issued", "ticket.issued", True),
        ("*.*", "ticket.issued", True),
        ("*", "ticket.issued", False),
        ("#", "ticket.issued", True),
        ("#", "ticket", True),
        ("ticket.#", "ticket", True),
        ("ticket.#", "ticket.issued", True),
        ("ticket.#", "ticket.issued.v2", True),
        ("ticket.#", "login.failed", False),
        ("#.failed", "login.failed", True),
        ("#.failed", "failed", True),
        ("#.failed", "login.failed.again", False),
        ("login.#.required", "login.binding.required", True),
        ("login.#.required", "login.required", True),
        ("login.binding_required", "login.binding_required", True),
    ],
)
def test_topic_pattern_matches_like_amqp(pattern: str, key: str, matches: bool) -> None:
    assert topic_matches(pattern, key) is matches
