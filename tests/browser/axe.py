"""axe-core in a page under test: every rule axe runs by default (WCAG 2.0-2.2 A and AA and
its best practices), loaded from the pinned npm package (tests/browser/js, installed by
scripts/ensure-browser-tools.sh, which `make test` runs).

    await assert_accessible(page, "login page, QR shown")

The script goes in through the DevTools protocol (page.evaluate), so a page's
Content-Security-Policy, which forbids inline and foreign scripts, needs no loosening."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from playwright.async_api import Page

AXE_JS = Path(__file__).parent / "js" / "node_modules" / "axe-core" / "axe.min.js"


@functools.cache
def _source() -> str:
    if not AXE_JS.exists():
        raise RuntimeError(f"{AXE_JS} is missing: run scripts/ensure-browser-tools.sh")
    return AXE_JS.read_text()


async def violations(page: Page, include: str | None = None) -> list[dict[str, Any]]:
    """axe's violations on the page as it is now (or within the `include` selector)."""
    if not await page.evaluate("typeof window.axe === 'object'"):
        await page.evaluate(_source())
    found: list[dict[str, Any]] = await page.evaluate(
        """async (include) => {
            const result = await axe.run(include ? { include: [include] } : document,
                                         { resultTypes: ["violations"] });
            return result.violations.map((v) => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map((n) => ({ target: n.target, summary: n.failureSummary })),
            }));
        }""",
        include,
    )
    return found


def describe(found: list[dict[str, Any]]) -> str:
    lines = []
    for v in found:
        lines.append(f"{v['id']} ({v['impact']}): {v['help']}")
        lines.extend(f"    {n['target']}: {n['summary']}" for n in v["nodes"])
    return "\n".join(lines)


async def assert_accessible(page: Page, state: str, include: str | None = None) -> None:
    """Fail, naming each rule and element, unless axe finds no violation in `state`."""
    found = await violations(page, include)
    assert not found, f"axe-core violations on {state}:\n{describe(found)}"
