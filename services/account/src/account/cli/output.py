"""What the command line prints: aligned tables for people (Chinese names take two columns
each, as a terminal shows them), JSON for scripts, and a progress bar on stderr."""

from __future__ import annotations

import json
import sys
import unicodedata
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, TextIO

MAX_CELL = 48  # columns a cell may take before it is cut with an ellipsis


def width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def cell(value: Any) -> str:
    """One value as a table shows it: '-' for nothing, times as UTC, lists comma-separated."""
    if value is None or value == "" or value == []:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value > 1e9:  # seconds since the epoch
        return datetime.fromtimestamp(value, UTC).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, list):
        return ", ".join(cell(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    text = " ".join(str(value).split())  # no newline or tab may break the table
    if width(text) > MAX_CELL:
        while width(text) > MAX_CELL - 1:
            text = text[:-1]
        text += "…"
    return text


def table(rows: Sequence[dict[str, Any]], columns: Sequence[str], out: TextIO) -> None:
    if not rows:
        print("(none)", file=out)
        return
    cells = [[cell(row.get(c)) for c in columns] for row in rows]
    heads = [c.upper() for c in columns]
    widths = [max(width(h), *(width(r[i]) for r in cells)) for i, h in enumerate(heads)]
    for line in [heads, *cells]:
        padded = [v + " " * (w - width(v)) for v, w in zip(line, widths, strict=True)]
        print("  ".join(padded).rstrip(), file=out)


def fields(obj: dict[str, Any], out: TextIO) -> None:
    """One object, a field a line."""
    if not obj:
        return
    name_width = max(width(k) for k in obj)
    for key, value in obj.items():
        if isinstance(value, list) and value and isinstance(value[0], dict):
            continue  # nested rows (a user's identities) are printed as their own table
        print(f"{key}{' ' * (name_width - width(key))}  {cell(value)}", file=out)


def as_json(value: Any, out: TextIO) -> None:
    json.dump(value, out, ensure_ascii=False, indent=2)
    out.write("\n")


class Progress:
    """A bar on stderr: redrawn in place on a terminal, a line per step otherwise (a log)."""

    def __init__(self, total: int, what: str, out: TextIO = sys.stderr, bar: int = 30) -> None:
        self.total, self.what, self.out, self.bar = max(total, 1), what, out, bar
        self.live = out.isatty()

    def show(self, done: int) -> None:
        filled = self.bar * done // self.total
        line = f"[{'#' * filled}{'.' * (self.bar - filled)}] {done}/{self.total} {self.what}"
        if self.live:
            self.out.write("\r" + line)
        else:
            self.out.write(line + "\n")
        self.out.flush()

    def finish(self) -> None:
        if self.live:
            self.out.write("\n")
            self.out.flush()
