"""How many WebSockets this replica holds per ticket and per client address.

One browser needs one socket per ticket; a reconnect whose old socket is not yet known to be
dead, or a second tab, a few. Without a bound, one address could hold thousands of sockets
(2,000 on one ticket were all accepted), each a file descriptor and a few KiB. Counted in
memory: the limits apply per notifier replica, and sockets spread over replicas by the load
balancer can add up to the limit times the replicas.
"""

from __future__ import annotations

from notifier.errors import TooManySockets
from notifier.hub import HEARTBEAT

# A refused client's wait before retrying: a dead peer's socket is dropped, and its slot
# freed, within two heartbeats; a live one's when its ticket ends or the browser leaves.
RETRY_AFTER = int(2 * HEARTBEAT)


class Slot:
    """One socket's place in the counts, held from the start of its handshake until the
    socket is gone (or the handshake refused); `release` gives it back once."""

    __slots__ = ("_slots", "ip", "ticket_id")

    def __init__(self, slots: SocketSlots, ticket_id: str, ip: str) -> None:
        self._slots: SocketSlots | None = slots
        self.ticket_id = ticket_id
        self.ip = ip

    def release(self) -> None:
        slots, self._slots = self._slots, None
        if slots is not None:
            slots.give_back(self)


class SocketSlots:
    def __init__(self, per_ticket: int, per_ip: int) -> None:
        self.per_ticket = per_ticket
        self.per_ip = per_ip
        self._tickets: dict[str, int] = {}
        self._ips: dict[str, int] = {}

    def take(self, ticket_id: str, ip: str) -> Slot:
        """A slot for one more socket to `ticket_id` from `ip`; TooManySockets (429) past
        either limit."""
        if self._tickets.get(ticket_id, 0) >= self.per_ticket:
            raise TooManySockets(
                f"This ticket has {self.per_ticket} WebSockets open; close one first.",
                retry_after=RETRY_AFTER,
            )
        if self._ips.get(ip, 0) >= self.per_ip:
            raise TooManySockets(
                f"This address has {self.per_ip} WebSockets open; close one first.",
                retry_after=RETRY_AFTER,
            )
        self._tickets[ticket_id] = self._tickets.get(ticket_id, 0) + 1
        self._ips[ip] = self._ips.get(ip, 0) + 1
        return Slot(self, ticket_id, ip)

    def give_back(self, slot: Slot) -> None:
        _down(self._tickets, slot.ticket_id)
        _down(self._ips, slot.ip)


def _down(counts: dict[str, int], key: str) -> None:
    left = counts[key] - 1
    if left:
        counts[key] = left
    else:
        del counts[key]  # no entry for what holds none: the maps stay as small as the load
