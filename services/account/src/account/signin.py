"""Signing in to a local account with an email address or phone number and a password.

What a guesser learns is as little as we can make it: an unknown account, an account without
a password and a wrong password get the same error after the same work (a dummy argon2id
hash is verified when there is no real one); whether an account is disabled is said only to
someone who gave its right password. Attempts are slowed per account and per IP address
(signin_throttle), never locked out.
"""

from __future__ import annotations

import asyncio
from typing import Any

from account import passwords
from account.audit import AuditKind
from account.context import Account
from account.local_accounts import LocalAccounts, canonical_login
from shared import logs
from shared.errors import AppError

log = logs.get(__name__)
MAX_LOGIN_CHARS = 320


class SignInRefused(AppError):
    """A sign-in that did not succeed; `code` says why, `retry_after` (seconds) when the
    attempt was slowed."""

    # Raised as one of the kinds below; its own code is theirs in general: "not signed in".
    status = 401
    code = "invalid_credentials"
    message = "The email address, phone number or password is wrong."


class InvalidCredentials(SignInRefused):
    status = 401
    code = "invalid_credentials"
    message = "The email address, phone number or password is wrong."


class UserDisabled(SignInRefused):
    status = 403
    code = "user_disabled"
    message = "This account is disabled."


class SignInThrottled(SignInRefused):
    status = 429
    code = "sign_in_throttled"
    message = "Too many failed sign-ins; wait a moment and try again."


async def _matches(stored: str | None, password: str) -> bool:
    """Whether `password` is the one `stored` hashes, off the event loop. No hash, or one we
    cannot read, costs the same work as a wrong password and is one."""
    real = stored is not None
    try:
        if real:
            passwords.scheme_of(stored or "")
    except passwords.UnsupportedHash:
        log.warning("password_hash_unreadable")
        real = False
    target = stored if real and stored else passwords.dummy_hash()
    ok = await asyncio.to_thread(passwords.verify, target, password[: passwords.MAX_PASSWORD_CHARS])
    return ok and real


async def _audit(acct: Account, outcome: str, reason: str, user_id: str, ip: str) -> None:
    """One audit record per attempt (account.audit)."""
    try:
        await acct.audit.record(
            kind=AuditKind.SIGN_IN, outcome=outcome, reason=reason, user_id=user_id, pc_ip=ip
        )
    except Exception as exc:  # the record is a trace, not a reason to refuse
        log.warning("sign_in_not_audited", error=type(exc).__name__)


async def _rehash(store: LocalAccounts, user: dict[str, Any], password: str) -> None:
    """Replace an imported or outdated hash by argon2id, now that the password is known."""
    old = user["password_hash"]
    if not passwords.needs_rehash(old):
        return
    new = await asyncio.to_thread(passwords.hash_password, password)
    if await store.replace_hash(user["_id"], old, new):
        log.info("password_rehashed", user_id=user["_id"], scheme=passwords.scheme_of(old).value)


async def sign_in(acct: Account, login: str, password: str, ip: str) -> str:
    """The user id `login` (an email address or a phone number) and `password` prove.
    Raises InvalidCredentials, SignInThrottled (with retry_after) or UserDisabled, all
    SignInRefused."""
    login = login[:MAX_LOGIN_CHARS]
    reservation = await acct.sign_in_throttle.reserve(canonical_login(login), ip)
    if isinstance(reservation, int):
        await _audit(acct, "failed", SignInThrottled.code, "", ip)
        raise SignInThrottled(retry_after=reservation)
    user = await acct.local_accounts.find_by_login(login)
    stored = user.get("password_hash") if user else None
    if not await _matches(stored, password) or user is None:
        # The operator's audit names the account tried (no one else sees it).
        await _audit(acct, "failed", InvalidCredentials.code, user["_id"] if user else "", ip)
        raise InvalidCredentials()
    await acct.sign_in_throttle.succeeded(reservation)
    if user.get("disabled"):
        await _audit(acct, "failed", UserDisabled.code, user["_id"], ip)
        raise UserDisabled()
    await _rehash(acct.local_accounts, user, password)
    await _audit(acct, "succeeded", "", user["_id"], ip)
    log.info("signed_in", user_id=user["_id"])
    return str(user["_id"])
