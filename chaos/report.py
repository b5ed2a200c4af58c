"""docs/reliability.md: per scenario, what happened to the logins, against the targets."""

from __future__ import annotations

import os
import platform
import subprocess
from datetime import UTC, datetime

from chaos.fates import Fate
from chaos.run import Load, Outcome

RECOVERY_TARGET = 2.0  # seconds of the system's time in the first login after the fault
FAIL_TARGET = 0.01  # of logins, for a RabbitMQ node loss or a Redis failover
FAILOVERS = {"rabbit-node", "redis-cluster", "sentinel"}


def machine() -> str:
    cpus = os.cpu_count() or 0
    return (
        f"{platform.system()} {platform.machine()}, {cpus} CPUs, Python {platform.python_version()}"
    )


def revision() -> str:
    """The commit the services ran from, and whether the tree held uncommitted changes to
    their code (the services run from the working tree)."""

    def git(*args: str) -> str:
        out = subprocess.run(["git", *args], capture_output=True, text=True, check=False)  # noqa: S603, S607
        return out.stdout.strip()

    head = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--", "shared", "services")
    return f"commit {head}" + (" with uncommitted changes to shared/ or services/" if dirty else "")


def seconds(value: float | None) -> str:
    return "never" if value is None else f"{value:.2f} s"


def verdicts(o: Outcome) -> list[str]:
    """Each target the scenario misses, in words; empty when it meets them all."""
    t = o.tally
    missed = []
    if t.fates[Fate.LOST]:
        missed.append(f"{t.fates[Fate.LOST]} lost")
    if t.fates[Fate.DUPLICATED]:
        missed.append(f"{t.fates[Fate.DUPLICATED]} duplicated")
    if t.recovery is None or t.recovery > RECOVERY_TARGET:
        missed.append(f"recovery {seconds(t.recovery)} (target {RECOVERY_TARGET:g} s)")
    failed = t.fates[Fate.FAILED_CLEAR] + t.fates[Fate.FAILED_UNCLEAR]
    if o.fault.name in FAILOVERS and t.started and failed / t.started >= FAIL_TARGET:
        missed.append(f"{failed / t.started:.1%} failed (target under {FAIL_TARGET:.0%})")
    if o.fault.name in FAILOVERS:
        final = [x for x in o.logins if x.fate in (Fate.FAILED_CLEAR, Fate.FAILED_UNCLEAR)]
        if unclear := [x for x in final if not x.retryable]:
            missed.append(f"{len(unclear)} failed without a clear, retryable error")
    if o.fault.name == "broker-outage":
        confirmed_during = [
            x
            for x in o.logins
            if x.confirmed is not None and o.fault_started <= x.confirmed <= o.fault_over
        ]
        bad = [x for x in confirmed_during if x.fate is not Fate.COMPLETED]
        if bad:
            missed.append(
                f"{len(bad)} of {len(confirmed_during)} confirmed in the outage not completed"
            )
    if t.fates[Fate.STRANDED]:
        missed.append(f"{t.fates[Fate.STRANDED]} stranded")
    return missed


def render(
    outcomes: list[Outcome],
    load: Load,
    command: str,
    elapsed: float,
    broken: dict[str, str] | None = None,
) -> str:
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "# Reliability: the fault-injection suite",
        "",
        f"Written by `{command}` on {when}, on {machine()} (shared with other work), from "
        f"{revision()}, in "
        f"{elapsed / 60:.1f} minutes. Each scenario offers an open-loop load of complete logins "
        f"(Poisson arrivals, {load.rate:g} a second for {load.duration:g} s: ticket, QR, the "
        "browser's WebSocket, the phone's scan and confirm through the WeChat sandbox, the "
        "token exchange and the ID token checked) over the local cluster (`make cluster-up`: "
        "three RabbitMQ nodes with quorum queues, Redis Cluster 3+3 or a Sentinel setup, two "
        f"replicas of each service behind nginx, SecantusDB), and injects one fault "
        f"{load.fault_at:g} s in.",
        "",
        "## What the columns count",
        "",
        "- **started**: logins begun, including the new ones people start after a page told "
        "them to try again (*retries*).",
        "- **completed**: the browser was told and the site verified the ID token.",
        "- **failed, clear**: the person was shown an error with a stable code (or the ticket "
        "ended `failed` with a reason); **failed, unclear**: it ended on a gateway page, a "
        "reset connection or a timeout.",
        "- **stranded**: the phone confirmed, but the browser learned the outcome only once "
        "its ticket's lifetime had passed, from the notifier's check at the end of it (the "
        "135 s safety net).",
        "- **lost**: the phone confirmed and the browser was never told, not even by a last "
        f"look at the ticket {load.patience.safety_net:g} s after the confirm.",
        "- **duplicated**: a completed login that gave a WeChat user a second `sub` (across "
        "the whole run).",
        "- **recovery**: the system's time (the person's 1 s on the confirm page taken out) "
        "in the first login started after the fault was over (the failover done, the broker "
        "or Redis back; one login is started at that moment besides the schedule). Target: "
        f"under {RECOVERY_TARGET:g} s.",
        "",
        "People retry as real ones do: the browser reloads a page that did not load (up to "
        f"{load.patience.browser:g} s), the phone retries a 429/502/503/504 after its "
        f"Retry-After (up to {load.patience.phone:g} s), and a login whose ticket failed is "
        "started again once.",
        "",
        "## Results",
        "",
        "| scenario | started | completed | failed, clear | failed, unclear | stranded | lost "
        "| duplicated | recovery | targets |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|---|",
    ]
    for o in outcomes:
        t = o.tally
        missed = verdicts(o)
        lines.append(
            f"| {o.fault.title} | {t.started} | {t.fates[Fate.COMPLETED]} "
            f"| {t.fates[Fate.FAILED_CLEAR]} | {t.fates[Fate.FAILED_UNCLEAR]} "
            f"| {t.fates[Fate.STRANDED]} | {t.fates[Fate.LOST]} | {t.fates[Fate.DUPLICATED]} "
            f"| {seconds(t.recovery)} | {'met' if not missed else 'missed: ' + '; '.join(missed)} |"
        )
    for name, why in (broken or {}).items():
        lines.append(f"| `{name}`: not run | | | | | | | | | the fault failed: {why} |")
    lines += ["", "## Each scenario", ""]
    for o in outcomes:
        t = o.tally
        lines += [
            f"### {o.fault.title} (`{o.fault.name}`, Redis {o.fault.store})",
            "",
            f"- fault from {o.fault_started:.1f} s to {o.fault_over:.1f} s of the load; "
            + "; ".join(f"{k}: {v}" for k, v in o.fault.notes.items()),
            f"- retries started: {t.retries}",
        ]
        for error, count in t.errors.most_common(6):
            lines.append(f"- {count} × `{error}`")
        lines.append("")
    return "\n".join(lines)
