"""What became of each login: its fate, its timeline, and the counts a scenario reports."""

from __future__ import annotations

import enum
from collections import Counter
from dataclasses import dataclass, field


class Fate(enum.StrEnum):
    COMPLETED = "completed"  # the browser was told, the site got a verified ID token
    FAILED_CLEAR = "failed_clear"  # a person was shown an error with a stable code
    FAILED_UNCLEAR = "failed_unclear"  # it ended without a code: a gateway page, a timeout
    STRANDED = "stranded"  # the phone confirmed; the browser learned only by its safety net
    LOST = "lost"  # the phone confirmed; the browser was never told
    DUPLICATED = "duplicated"  # completed, but with a second `sub` for the same WeChat user


@dataclass
class Login:
    """One person's login attempt, times in seconds from the start of the run."""

    started: float
    openid: str
    retry_of: int | None = None  # index of the login whose retryable failure started this one
    issued: float | None = None  # the ticket was created
    scanned: float | None = None  # the phone's scan was accepted
    confirmed: float | None = None  # the phone's confirm was accepted
    told: float | None = None  # the browser learned the outcome
    ended: float | None = None
    fate: Fate | None = None
    error: str = ""  # the code (or, when unclear, the kind) a failure was shown as
    retryable: bool = False  # the failure said to try again (503, Retry-After)
    sub: str | None = None
    think: float = 0.0  # the person's own time (reading the phone's page), not the system's
    ticket: str = ""  # its ticket's id: the services' logs name it

    def end(self, at: float, fate: Fate, error: str = "") -> None:
        self.ended, self.fate, self.error = at, fate, error


@dataclass
class Tally:
    """A scenario's counts, and what the fault and the recovery looked like."""

    started: int = 0
    fates: Counter[Fate] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    retries: int = 0
    recovery: float | None = None  # the first login after the fault: the system's time in it
    unfinished: int = 0


def mark_duplicates(logins: list[Login], first: dict[str, str]) -> None:
    """A completed login whose WeChat user already completed under another `sub` is a
    duplicate: the same person now has two accounts. `first` maps each WeChat user to the
    `sub` they first got, across scenarios, and is updated."""
    for login in sorted(logins, key=lambda x: x.ended or 0.0):
        if login.fate is not Fate.COMPLETED or login.sub is None:
            continue
        known = first.setdefault(login.openid, login.sub)
        if known != login.sub:
            login.fate = Fate.DUPLICATED


def recovery_time(logins: list[Login], fault_over: float) -> float | None:
    """The system's time in the first login started after the fault was over (the person's
    think time taken out); None if no such login completed."""
    after = [x for x in logins if x.started >= fault_over]
    if not after:
        return None
    first = min(after, key=lambda x: x.started)
    if first.fate is not Fate.COMPLETED or first.ended is None:
        return None
    return first.ended - first.started - first.think


def tally(logins: list[Login], fault_over: float, subs: dict[str, str]) -> Tally:
    mark_duplicates(logins, subs)
    out = Tally(started=len(logins), recovery=recovery_time(logins, fault_over))
    for login in logins:
        if login.fate is None:
            out.unfinished += 1
            continue
        out.fates[login.fate] += 1
        if login.error:
            out.errors[login.error] += 1
        out.retries += login.retry_of is not None
    return out
