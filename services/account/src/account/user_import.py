"""Bulk import of local accounts from JSON lines: one user per line, read as the body streams
in and written in batches. Each line is its own account, written whole or not at all: a bad
line is reported with its number and never stops or half-applies the rest. A line whose email
or phone another user already has is skipped, so an import that was cut off can be sent again
from the start."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from aiohttp import StreamReader
from pymongo.errors import BulkWriteError

from account.local_accounts import LocalAccounts
from account.user_fields import UserImportLine
from account.users import new_user_id
from shared.errors import AppError, InvalidRequest, MalformedJson
from shared.web import validate

MAX_LINE_BYTES = 64 * 1024
BATCH = 500
# At most this many errors and skips are listed (all are counted).
MAX_LISTED = 1000
DUPLICATE_KEY = 11000


@dataclass
class ImportSummary:
    imported: int = 0
    skipped: int = 0
    failed: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    skipped_lines: list[dict[str, Any]] = field(default_factory=list)

    def error(self, line: int, code: str, message: str) -> None:
        self.failed += 1
        if len(self.errors) < MAX_LISTED:
            self.errors.append({"line": line, "code": code, "message": message})

    def skip(self, line: int, field_name: str) -> None:
        self.skipped += 1
        if len(self.skipped_lines) < MAX_LISTED:
            self.skipped_lines.append({"line": line, "field": field_name})

    def out(self) -> dict[str, Any]:
        return {
            "imported": self.imported,
            "skipped": self.skipped,
            "failed": self.failed,
            "errors": self.errors,
            "skipped_lines": self.skipped_lines,
        }


async def lines(stream: StreamReader) -> AsyncIterator[tuple[int, bytes | None]]:
    """(number, content) of each line of `stream`, counted from 1; None for a line longer
    than MAX_LINE_BYTES (the rest of it is read and dropped)."""
    number, buf, too_long = 0, b"", False
    async for chunk in stream.iter_chunked(64 * 1024):
        buf += chunk
        while (end := buf.find(b"\n")) >= 0:
            number += 1
            yield number, None if too_long or end > MAX_LINE_BYTES else buf[:end]
            buf, too_long = buf[end + 1 :], False
        if len(buf) > MAX_LINE_BYTES:
            buf, too_long = b"", True
    if buf or too_long:
        yield number + 1, None if too_long or len(buf) > MAX_LINE_BYTES else buf


def parse(raw: bytes) -> dict[str, Any]:
    """The user document a line describes. Raises MalformedJson or InvalidRequest."""
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise MalformedJson("The line is not valid JSON.") from exc
    if not isinstance(data, dict):
        raise InvalidRequest("Each line must be a JSON object (one user).")
    user = validate(UserImportLine, data)
    return user.model_dump(exclude_none=True)


def _taken_field(error: dict[str, Any]) -> str:
    pattern = error.get("keyPattern") or {}
    if "email" in pattern or "email" in str(error.get("errmsg", "")):
        return "email"
    return "phone"


class Importer:
    def __init__(self, store: LocalAccounts) -> None:
        self.store = store
        self.summary = ImportSummary()
        self._batch: list[tuple[int, dict[str, Any]]] = []

    async def add(self, number: int, raw: bytes | None) -> None:
        if raw is None:
            self.summary.error(
                number, "line_too_long", f"Lines are at most {MAX_LINE_BYTES} bytes."
            )
            return
        if number == 1:
            raw = raw.removeprefix(b"\xef\xbb\xbf")  # the byte-order mark some editors write
        if not raw.strip():
            return  # blank lines (a trailing newline, say) are nothing
        try:
            fields = parse(raw)
        except AppError as exc:
            self.summary.error(number, exc.code, exc.detail_message)
            return
        now = self.store.clock.now()
        doc = {
            "_id": new_user_id(),
            "created_at": now,
            "updated_at": now,
            "local": True,
            "disabled": False,
            **fields,
        }
        self._batch.append((number, doc))
        if len(self._batch) >= BATCH:
            await self.flush()

    async def flush(self) -> None:
        """Write the batch: unordered, so each document stands or falls alone."""
        batch, self._batch = self._batch, []
        if not batch:
            return
        try:
            await self.store.users.insert_many([doc for _, doc in batch], ordered=False)
            self.summary.imported += len(batch)
            return
        except BulkWriteError as exc:
            failures = {e["index"]: e for e in exc.details.get("writeErrors", [])}
        self.summary.imported += len(batch) - len(failures)
        for index, error in sorted(failures.items()):
            number = batch[index][0]
            if error.get("code") == DUPLICATE_KEY:
                self.summary.skip(number, _taken_field(error))
            else:
                self.summary.error(number, "not_written", str(error.get("errmsg", "")))
