"""The transactional outbox: the script that changes a ticket appends the change's event to
one of the outbox streams in the same atomic step, and a relay (shared.tickets.relay)
publishes the streams. A broker outage then delays events; it cannot lose them, and it
cannot fail the request that changed the ticket.

An event is written while the ticket changes, so values only the ticket holds (its trace
id, its client) are left as markers, `from_ticket("client_id")`, that the script replaces
with the ticket's values. The codec still writes every byte of the JSON around them.
"""

from __future__ import annotations

import re

from shared.events import Event, encode

# A marker is a JSON string no real value contains (the codec escapes a NUL as \u0000).
_MARKER = re.compile(r'"\\u0000([a-z_]+)\\u0000"')


def from_ticket(field: str) -> str:
    """A stand-in for the ticket's `field`, filled in by the script that writes the event."""
    return f"\x00{field}\x00"


def template(event: Event) -> list[str]:
    """The event's JSON as [text, field, text, field, ..., text] around its markers."""
    return _MARKER.split(encode(event).decode())


def body(event: Event) -> str:
    """The JSON of an event that has no markers."""
    parts = template(event)
    if len(parts) != 1:
        raise ValueError("this event takes values from the ticket; write it with the ticket")
    return parts[0]
