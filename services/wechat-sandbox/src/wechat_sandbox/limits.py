"""Fixed-window counters for the per-minute and per-day limits, on the injected clock."""

from __future__ import annotations

from collections import Counter

MINUTE = 60
DAY = 86_400


class WindowCounter:
    def __init__(self) -> None:
        self._counts: Counter[tuple[str, str, int, int]] = Counter()

    def hit(self, name: str, key: str, window: int, now: float) -> int:
        """Count one call in the current window of `window` seconds; returns the new count."""
        start = int(now // window) * window
        self._prune(now)
        slot = (name, key, window, start)
        self._counts[slot] += 1
        return self._counts[slot]

    def peek(self, name: str, key: str, window: int, now: float) -> int:
        return self._counts[(name, key, window, int(now // window) * window)]

    def _prune(self, now: float) -> None:
        if len(self._counts) < 1024:
            return
        for slot in [s for s in self._counts if s[3] + s[2] <= now]:
            del self._counts[slot]

    def clear(self) -> None:
        self._counts.clear()
