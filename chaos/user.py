"""One person logging in while faults happen, retrying as a real one would: the browser
reloads a page that did not load, the phone retries a 503 after its Retry-After, and both
give up after a while. Every path ends the login with a fate (chaos.fates)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from bench.loadgen import THINK_TIME, Client, LoginFailed, error_kind
from chaos.browser import NETWORK_ERRORS, Browser
from chaos.fates import Fate, Login

T = TypeVar("T")
# Statuses a gateway or a server in trouble answers with; the same request may then succeed.
RETRY_STATUSES = {429, 502, 503, 504}
# Waits between tries when the answer gave no Retry-After (a gateway page, a reset).
DEFAULT_RETRY_AFTER = 1.0
# What a step may raise that a person would try again after.
RETRIED: tuple[type[BaseException], ...] = (LoginFailed, TimeoutError, *NETWORK_ERRORS)


@dataclass(frozen=True)
class Patience:
    """How long people wait before they give up (seconds)."""

    browser: float = 20.0  # a login page that will not load
    phone: float = 30.0  # the phone's scan or confirm that keeps failing
    # The notifier tells a browser whose confirmed ticket never finished at the end of the
    # ticket's lifetime plus a grace (135 s in all): a login told only then is stranded.
    # Past this long after the confirm the browser looks at the ticket once more; told
    # nothing even then, the login is lost.
    safety_net: float = 135.0


class GaveUp(Exception):
    """Every try failed until the person's patience ran out; the last answer is kept."""

    def __init__(self, last: BaseException) -> None:
        super().__init__(str(last))
        self.last = last


def clear_code(exc: BaseException) -> str | None:
    """The stable error code a refusal carried in our JSON envelope, if it did."""
    response = exc.response if isinstance(exc, LoginFailed) else None
    if response is None:
        return None
    try:
        error = json.loads(response.body).get("error")
    except (ValueError, AttributeError):
        return None
    code = error.get("code") if isinstance(error, dict) else error
    return code if isinstance(code, str) else None


def retry_after(exc: BaseException) -> float | None:
    """Seconds to wait before trying again, or None if trying again will not help."""
    if isinstance(exc, LoginFailed) and exc.response is not None:
        if exc.response.status not in RETRY_STATUSES:
            return None
        try:
            return float(exc.response.headers.get("retry-after", DEFAULT_RETRY_AFTER))
        except ValueError:
            return DEFAULT_RETRY_AFTER
    if isinstance(exc, (*NETWORK_ERRORS, TimeoutError)):
        return DEFAULT_RETRY_AFTER
    return None


async def with_retries(step: Callable[[], Awaitable[T]], patience: float) -> T:
    """`step` until it succeeds, a refusal says not to retry, or `patience` runs out."""
    deadline = time.monotonic() + patience
    while True:
        try:
            async with asyncio.timeout(max(0.1, deadline - time.monotonic())):
                return await step()
        except RETRIED as exc:
            wait = retry_after(exc)
            if wait is None or time.monotonic() + wait > deadline:
                raise GaveUp(exc) from exc
            await asyncio.sleep(wait)


def failure(exc: BaseException) -> tuple[Fate, str, bool]:
    """A failed step as the person saw it: the fate, what they were shown, and whether it
    said to try again."""
    last = exc.last if isinstance(exc, GaveUp) else exc
    code = clear_code(last)
    if code is not None:
        step = str(last).split(": HTTP", 1)[0]  # the step the refusal answered
        return Fate.FAILED_CLEAR, f"{step}: {code}", retry_after(last) is not None
    return Fate.FAILED_UNCLEAR, error_kind(last), False


async def login(
    client: Client, record: Login, clock: Callable[[], float], patience: Patience
) -> None:
    """Run one login to its end, recording its timeline and fate in `record`. `client`'s
    phone scans as `record.openid` (its spec names that one WeChat user)."""
    browser: Browser | None = None
    try:
        ticket, cookie, verifier, nonce, image = await with_retries(
            client.create_ticket, patience.browser
        )
        record.ticket, record.issued = ticket, clock()
        await with_retries(lambda: client.qr_image(image, cookie), patience.browser)
        browser = Browser(client, ticket, cookie)
        browser.start()
        if await browser.wait_for({"pending"}, patience.browser) != "pending":
            record.end(clock(), Fate.FAILED_UNCLEAR, f"browser saw {browser.status or 'nothing'}")
            return
        session, _ = await with_retries(lambda: client.phone_scan(ticket), patience.phone)
        record.scanned = clock()
        record.think = THINK_TIME
        await asyncio.sleep(THINK_TIME)  # the person reads the confirm page
        await confirm(client, ticket, session, patience.phone)
        record.confirmed = clock()
        outcome = await browser.wait_for({"succeeded"}, patience.safety_net)
        if outcome is None:
            # The safety net: one last look at the ticket before the page gives up.
            await browser.close()
            last = await with_retries(browser.poll, patience.browser)
            if last.get("status") == "succeeded":
                record.told = clock()
                record.end(record.told, Fate.STRANDED, "told only by the safety net")
            else:
                record.end(clock(), Fate.LOST, f"still {last.get('status')} at the safety net")
            return
        record.told = clock()
        if browser.past_lifetime():
            record.end(record.told, Fate.STRANDED, f"told {outcome} only by the safety net")
            return
        if outcome != "succeeded":
            reason = str(browser.last.get("reason") or outcome)
            record.retryable = outcome == "failed"
            record.end(record.told, Fate.FAILED_CLEAR, f"ticket {outcome}: {reason}")
            return
        redirect = str(browser.last["redirect_url"])
        claims = await with_retries(lambda: client.token(redirect, verifier, nonce), patience.phone)
        record.sub = str(claims["sub"])
        record.end(clock(), Fate.COMPLETED)
    except (GaveUp, LoginFailed) as exc:
        fate, error, retryable = failure(exc)
        if record.confirmed is not None and fate is Fate.FAILED_UNCLEAR:
            fate = Fate.LOST  # confirmed on the phone, then nothing the browser understood
        record.retryable = retryable
        record.end(clock(), fate, error)
    except Exception as exc:
        # Anything else (an ID token that fails its checks, a malformed answer) is a fate
        # too, not a crash of the run.
        record.end(clock(), Fate.FAILED_UNCLEAR, error_kind(exc))
    finally:
        if browser is not None:
            await browser.close()


async def confirm(client: Client, ticket: str, session: str, patience: float) -> None:
    """The phone's confirm, retried; a retry refused because the first try went through (the
    answer was lost in a gateway) is a confirm, not a failure."""
    tried = False

    async def once() -> None:
        nonlocal tried
        try:
            await client.phone_confirm(ticket, session)
        except LoginFailed as exc:
            if tried and exc.response is not None and exc.response.status == 409:
                return
            raise
        finally:
            tried = True

    await with_retries(once, patience)
