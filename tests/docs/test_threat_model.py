"""The threat model in docs/operations.md names, for each threat, the tests that show it
held; a renamed or deleted test must not leave the table pointing at nothing."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = re.compile(r"`(?:([\w/]+\.py)(?:::)?)?(test_\w+)?`")


def test_every_test_the_threat_model_names_exists() -> None:
    section = (ROOT / "docs" / "operations.md").read_text().split("## Threat model")[1]
    rows = [r for r in section.split("\n## ")[0].splitlines() if r.startswith("| **")]
    assert len(rows) >= 10
    missing = []
    for row in rows:
        named = REFERENCE.findall(row)
        assert named, row[:60]
        current = ""
        for path, test in named:
            current = path or current
            source = (ROOT / "tests" / current).read_text()
            if test and f"def {test}(" not in source:
                missing.append(f"{current}::{test}")
    assert missing == []
