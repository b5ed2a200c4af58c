"""The browsers this replica holds, by ticket."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any, Protocol

# How often the shared heartbeat pings every socket; a browser silent for a whole beat
# after a ping is dropped. It finds dead peers and keeps idle proxies from cutting the line.
HEARTBEAT = 45.0


class BrowserSocket(Protocol):
    """A waiting browser's socket: `notifier.socket.TicketSocket` (ML_NOTIFIER_SOCKETS=lean)
    or `notifier.plain_socket.PlainSocket` (aiohttp)."""

    @property
    def ticket_id(self) -> str: ...

    def push(self, message: dict[str, Any]) -> bool:
        """Send unless this or a newer version was already sent; True if sent."""

    def close(self, code: int = ..., reason: bytes = ...) -> None:
        """Start the closing handshake."""

    def going_away(self) -> None:
        """Close because this process is stopping (1001: the browser reconnects elsewhere)."""

    def heartbeat(self) -> None:
        """Drop the browser if it was silent since the last beat, else ping it."""


class PushNewer:
    """What both socket kinds send a status with: each version at most once, never older."""

    __slots__ = ("last_version",)
    last_version: int  # the newest status version this browser was sent; its owner sets 0

    @property
    def closed(self) -> bool:
        raise NotImplementedError

    def send_text(self, text: str) -> None:
        raise NotImplementedError

    def push(self, message: dict[str, Any]) -> bool:
        """Send unless this or a newer version was already sent; True if sent."""
        if message["version"] <= self.last_version or self.closed:
            return False
        self.last_version = message["version"]
        self.send_text(json.dumps(message))
        return True


class Join:
    """A browser between reading its ticket and being subscribed."""

    __slots__ = ("changed",)

    def __init__(self) -> None:
        self.changed = False  # an event for the ticket came in meanwhile


class Hub:
    def __init__(self) -> None:
        # Almost every ticket has exactly one browser: the socket itself, not a set of one.
        self._subs: dict[str, BrowserSocket | set[BrowserSocket]] = {}
        self._joining: dict[str, list[Join]] = {}

    @contextlib.contextmanager
    def joining(self, ticket_id: str) -> Iterator[Join]:
        join = Join()
        self._joining.setdefault(ticket_id, []).append(join)
        try:
            yield join
        finally:
            joins = self._joining[ticket_id]
            joins.remove(join)
            if not joins:
                del self._joining[ticket_id]

    def event(self, ticket_id: str) -> list[BrowserSocket]:
        """An event for `ticket_id` came in: the sockets to tell (browsers still joining
        note it and read the ticket again)."""
        for join in self._joining.get(ticket_id, ()):
            join.changed = True
        return self.get(ticket_id)

    def add(self, sock: BrowserSocket) -> None:
        held = self._subs.get(sock.ticket_id)
        if held is None:
            self._subs[sock.ticket_id] = sock
        elif isinstance(held, set):
            held.add(sock)
        elif held is not sock:
            self._subs[sock.ticket_id] = {held, sock}

    def remove(self, sock: BrowserSocket) -> bool:
        """Forget `sock`; True if no browser here waits on its ticket any more."""
        held = self._subs.get(sock.ticket_id)
        if isinstance(held, set):
            held.discard(sock)
            if len(held) == 1:
                self._subs[sock.ticket_id] = held.pop()
            elif not held:
                del self._subs[sock.ticket_id]
        elif held is sock:
            del self._subs[sock.ticket_id]
        return sock.ticket_id not in self._subs

    def get(self, ticket_id: str) -> list[BrowserSocket]:
        held = self._subs.get(ticket_id)
        if held is None:
            return []
        return list(held) if isinstance(held, set) else [held]

    def sockets(self) -> list[BrowserSocket]:
        out: list[BrowserSocket] = []
        for held in self._subs.values():
            if isinstance(held, set):
                out.extend(held)
            else:
                out.append(held)
        return out

    def heartbeat(self) -> None:
        for sock in self.sockets():
            sock.heartbeat()

    def __len__(self) -> int:
        return sum(len(h) if isinstance(h, set) else 1 for h in self._subs.values())
