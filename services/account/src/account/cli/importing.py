"""Bulk import of users from a JSON-lines file through POST /admin/v1/users/import, a slice
of lines a request, so the bar moves as the server works and a failed request costs only its
slice. The server writes each line whole or not at all and skips a line whose email or phone
another user has; here each of its line numbers is turned back into the file's."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from account.cli.client import AdminClient, ApiError, CliError, Unreachable
from account.cli.output import Progress

IMPORT_PATH = "/admin/v1/users/import"
SLICE = 200  # lines a request


@dataclass
class ImportTotals:
    lines: int = 0
    imported: int = 0
    skipped: int = 0
    failed: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    skipped_lines: list[dict[str, Any]] = field(default_factory=list)

    def out(self) -> dict[str, Any]:
        return {
            "lines": self.lines,
            "imported": self.imported,
            "skipped": self.skipped,
            "failed": self.failed,
            "errors": self.errors,
            "skipped_lines": self.skipped_lines,
        }


def read_lines(path: str) -> list[bytes]:
    """The file's lines (- reads stdin), as the server will number them (a last newline
    ends no extra line). Raises CliError when it cannot be read."""
    try:
        data = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror or exc}") from exc
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return lines


async def import_users(
    client: AdminClient, lines: list[bytes], progress: Progress, slice_size: int = SLICE
) -> ImportTotals:
    totals = ImportTotals(lines=len(lines))
    progress.show(0)
    for start in range(0, len(lines), slice_size):
        part = lines[start : start + slice_size]
        first = start + 1  # the file's number of the slice's line 1
        try:
            answer = await client.call(
                "POST",
                IMPORT_PATH,
                data=b"\n".join(part) + b"\n",
                content_type="application/x-ndjson",
            )
        except Unreachable:
            raise  # nothing further can be sent either: say so once
        except ApiError as exc:
            if exc.status in (401, 403, 404):
                raise  # the token or the deployment is wrong: every slice would fail so
            for offset in range(len(part)):  # the whole slice was refused: none was written
                totals.failed += 1
                totals.errors.append(
                    {"line": first + offset, "code": exc.code, "message": str(exc)}
                )
        else:
            _add(totals, answer, first)
        progress.show(start + len(part))
    progress.finish()
    return totals


def _add(totals: ImportTotals, answer: dict[str, Any], first: int) -> None:
    totals.imported += int(answer.get("imported", 0))
    totals.skipped += int(answer.get("skipped", 0))
    totals.failed += int(answer.get("failed", 0))
    for err in answer.get("errors", []):
        totals.errors.append({**err, "line": first + int(err["line"]) - 1})
    for skip in answer.get("skipped_lines", []):
        totals.skipped_lines.append({**skip, "line": first + int(skip["line"]) - 1})
