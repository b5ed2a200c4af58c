"""Signing in to a local account: by email or phone; one answer, after the same work, for an
unknown account and a wrong password; imported hashes replaced by argon2id on the first
success; a disabled account said so only to whoever knows its password; failures slowed by a
growing, capped wait per account and per IP, never locked out."""

from __future__ import annotations

import asyncio
import statistics
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, cast

import bcrypt
import pytest
import redis.asyncio as aioredis

from account import passwords
from account.context import Account
from account.local_accounts import LocalAccounts
from account.signin import (
    InvalidCredentials,
    SignInRefused,
    SignInThrottled,
    UserDisabled,
    sign_in,
)
from account.signin_throttle import Pace, SignInThrottle
from shared.clock import FakeClock
from shared.keys import Keys
from shared.redis import open_redis

REAL_REDIS_URL = "redis://127.0.0.1:6379/0"
OWNER_IP = "198.51.100.7"
GUESSER_IP = "203.0.113.66"
PASSWORD = "correct horse battery"


@pytest.fixture(params=["fakeredis", pytest.param("redis", marks=pytest.mark.real)])
async def redis(request: pytest.FixtureRequest) -> AsyncIterator[tuple[aioredis.Redis, Keys]]:
    ns = f"mlsignin{uuid.uuid4().hex[:12]}"
    client = open_redis(f"memory://{ns}" if request.param == "fakeredis" else REAL_REDIS_URL)
    try:
        yield client, Keys(ns)
    finally:
        found = [k async for k in client.scan_iter(match=Keys(ns).all(), count=1000)]
        if found:
            await client.delete(*found)
        await client.aclose()


@dataclass
class Audit:
    """Stands in for account.audit's log: what sign_in records."""

    records: list[dict[str, Any]] = field(default_factory=list)

    async def record(self, **fields: Any) -> None:
        self.records.append(fields)


@dataclass
class FakeAccount:
    local_accounts: LocalAccounts
    sign_in_throttle: SignInThrottle
    clock: FakeClock
    audit: Audit = field(default_factory=Audit)


def _acct(db: Any, redis: tuple[aioredis.Redis, Keys], **paces: Pace) -> FakeAccount:
    clock = FakeClock()
    client, keys = redis
    return FakeAccount(
        LocalAccounts(db, clock), SignInThrottle(client, keys, clock, **paces), clock
    )


async def _signed_in(acct: FakeAccount, login: str, password: str, ip: str = OWNER_IP) -> str:
    return await sign_in(cast(Account, acct), login, password, ip)


async def _refused(
    acct: FakeAccount, login: str, password: str, ip: str = OWNER_IP
) -> SignInRefused:
    with pytest.raises(SignInRefused) as caught:
        await _signed_in(acct, login, password, ip)
    return caught.value


async def _user(acct: FakeAccount, **fields: Any) -> dict[str, Any]:
    await acct.local_accounts.ensure_indexes()
    return await acct.local_accounts.create(fields)


async def _li_lei(acct: FakeAccount) -> dict[str, Any]:
    """An account signing in as li.lei@example.com with PASSWORD."""
    return await _user(
        acct, email="li.lei@example.com", password_hash=passwords.hash_password(PASSWORD)
    )


async def test_a_user_signs_in_by_email_in_any_case_or_by_phone_in_any_usual_form(
    db: Any, redis: tuple[aioredis.Redis, Keys]
) -> None:
    acct = _acct(db, redis)
    user = await _user(
        acct,
        email="li.lei@example.com",
        phone="+8613800001111",
        password_hash=passwords.hash_password(PASSWORD),
    )
    for login in ("li.lei@example.com", " Li.Lei@Example.COM", "+8613800001111", "13800001111",
                  "+86 138-0000-1111"):  # fmt: skip
        assert await _signed_in(acct, login, PASSWORD) == user["_id"]
    assert [r["outcome"] for r in acct.audit.records] == ["succeeded"] * 5


async def test_unknown_account_and_wrong_password_get_one_answer(
    db: Any, redis: tuple[aioredis.Redis, Keys]
) -> None:
    acct = _acct(db, redis)
    await _li_lei(acct)
    await _user(acct, email="no.password@example.com")
    answers = [
        await _refused(acct, "li.lei@example.com", "wrong password"),
        await _refused(acct, "nobody@example.com", PASSWORD),
        await _refused(acct, "no.password@example.com", ""),
        await _refused(acct, "not a login at all", PASSWORD),
    ]
    assert {(type(a), a.status, a.code, a.detail_message) for a in answers} == {
        (InvalidCredentials, 401, "invalid_credentials", InvalidCredentials.message)
    }


async def test_an_unknown_account_costs_the_same_argon2id_verification_as_a_wrong_password(
    db: Any, redis: tuple[aioredis.Redis, Keys], monkeypatch: pytest.MonkeyPatch
) -> None:
    acct = _acct(db, redis)
    real = await _li_lei(acct)
    checked: list[str] = []
    verify = passwords.verify

    def spy(stored: str, password: str) -> bool:
        checked.append(stored)
        return verify(stored, password)

    monkeypatch.setattr(passwords, "verify", spy)
    await _refused(acct, "li.lei@example.com", "wrong password")
    await _refused(acct, "nobody@example.com", "wrong password", ip=GUESSER_IP)
    assert checked[0] == real["password_hash"]
    assert checked[1] == passwords.dummy_hash()
    # The dummy is hashed with the same parameters as a real one: the same work.
    assert checked[1].split("$")[:4] == checked[0].split("$")[:4]


async def test_unknown_account_and_wrong_password_take_the_same_time(
    db: Any, redis: tuple[aioredis.Redis, Keys]
) -> None:
    # No waits in the way: this measures the checks, not the throttle.
    free = Pace(free=10**6, first=1.0, cap=1.0, idle=60)
    acct = _acct(db, redis, account_pace=free, ip_pace=free)
    await _li_lei(acct)
    passwords.dummy_hash()  # made once per process, at the first use: not timed here

    async def took(login: str) -> float:
        started = time.perf_counter()
        await _refused(acct, login, "wrong password")
        return time.perf_counter() - started

    known, unknown = [], []
    for _ in range(9):  # interleaved, so a slow moment of the machine hits both alike
        known.append(await took("li.lei@example.com"))
        unknown.append(await took("nobody@example.com"))
    ratio = statistics.median(unknown) / statistics.median(known)
    # argon2id's ~50 ms dominate both; a shortcut for unknown accounts would be ~100x faster.
    assert 0.6 < ratio < 1.6, (known, unknown)


async def test_an_imported_bcrypt_hash_is_replaced_by_argon2id_at_the_first_sign_in(
    db: Any, redis: tuple[aioredis.Redis, Keys]
) -> None:
    acct = _acct(db, redis)
    imported = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(5)).decode()
    user = await _user(acct, email="han.meimei@example.com", password_hash=imported)

    await _refused(acct, "han.meimei@example.com", "wrong password")
    assert (await acct.local_accounts.get(user["_id"]) or {})["password_hash"] == imported
    assert await _signed_in(acct, "han.meimei@example.com", PASSWORD) == user["_id"]
    rehashed = (await acct.local_accounts.get(user["_id"]) or {})["password_hash"]
    assert rehashed.startswith("$argon2id$")
    assert not passwords.needs_rehash(rehashed)
    assert await _signed_in(acct, "han.meimei@example.com", PASSWORD) == user["_id"]
    assert (await acct.local_accounts.get(user["_id"]) or {})["password_hash"] == rehashed


async def test_a_disabled_account_is_named_only_to_whoever_knows_its_password(
    db: Any, redis: tuple[aioredis.Redis, Keys]
) -> None:
    acct = _acct(db, redis)
    await _user(
        acct,
        email="gone@example.com",
        password_hash=passwords.hash_password(PASSWORD),
        disabled=True,
    )
    assert isinstance(
        await _refused(acct, "gone@example.com", "wrong password"), InvalidCredentials
    )
    refused = await _refused(acct, "gone@example.com", PASSWORD)
    assert isinstance(refused, UserDisabled)
    assert (refused.status, refused.code) == (403, "user_disabled")


async def test_failures_slow_the_account_more_and_more_but_never_lock_its_owner_out(
    db: Any, redis: tuple[aioredis.Redis, Keys]
) -> None:
    acct = _acct(db, redis)
    user = await _li_lei(acct)
    waits, checked = [], 0
    while checked < 12:
        refused = await _refused(acct, "li.lei@example.com", "guess", ip=GUESSER_IP)
        if not isinstance(refused, SignInThrottled):
            checked += 1
            continue
        assert refused.status == 429
        assert refused.details == {"retry_after": refused.retry_after}
        waits.append(refused.retry_after)
        # Asking again while told to wait changes nothing: the wait does not grow.
        again = await _refused(acct, "li.lei@example.com", "guess", ip=GUESSER_IP)
        assert isinstance(again, SignInThrottled)
        assert again.retry_after == refused.retry_after
        acct.clock.advance(refused.retry_after or 0)
    # Three free tries, then waits doubling from 1 s up to the 30 s cap.
    assert waits == [1, 2, 4, 8, 16, 30, 30, 30, 30]

    # The owner, elsewhere, waits once (at most the cap) and is in; the count starts afresh.
    refused = await _refused(acct, "li.lei@example.com", PASSWORD)
    assert isinstance(refused, SignInThrottled)
    assert refused.retry_after is not None
    assert refused.retry_after <= 30
    acct.clock.advance(refused.retry_after)
    assert await _signed_in(acct, "li.lei@example.com", PASSWORD) == user["_id"]
    assert isinstance(await _refused(acct, "li.lei@example.com", "typo"), InvalidCredentials)
    failed = [r for r in acct.audit.records if r["outcome"] == "failed"]
    assert {r["reason"] for r in failed} == {"invalid_credentials", "sign_in_throttled"}
    assert {r["kind"] for r in acct.audit.records} == {"sign_in"}


async def test_an_unknown_account_is_slowed_exactly_like_a_known_one(
    db: Any, redis: tuple[aioredis.Redis, Keys]
) -> None:
    acct = _acct(db, redis)
    await _li_lei(acct)
    for login in ("li.lei@example.com", "nobody@example.com"):
        answers = [type(await _refused(acct, login, "guess", ip=GUESSER_IP)) for _ in range(4)]
        assert answers == [InvalidCredentials] * 3 + [SignInThrottled]


async def test_one_ip_trying_many_accounts_is_slowed_and_other_ips_are_not(
    db: Any, redis: tuple[aioredis.Redis, Keys]
) -> None:
    acct = _acct(db, redis)
    user = await _li_lei(acct)
    answers = [
        type(await _refused(acct, f"user{i}@example.com", "123456", ip=GUESSER_IP))
        for i in range(11)
    ]
    assert answers == [InvalidCredentials] * 10 + [SignInThrottled]
    assert await _signed_in(acct, "li.lei@example.com", PASSWORD, ip=OWNER_IP) == user["_id"]


async def test_a_burst_of_concurrent_guesses_gets_no_more_tries_than_one_by_one(
    db: Any, redis: tuple[aioredis.Redis, Keys]
) -> None:
    acct = _acct(db, redis)
    await _li_lei(acct)
    answers = await asyncio.gather(
        *(_refused(acct, "li.lei@example.com", f"guess{i}", ip=GUESSER_IP) for i in range(12))
    )
    checked = [a for a in answers if isinstance(a, InvalidCredentials)]
    assert len(checked) == 3  # the free tries; every other guess waits
    assert all(isinstance(a, SignInThrottled) for a in answers if a not in checked)


async def test_spelling_a_phone_number_differently_does_not_buy_more_tries(
    db: Any, redis: tuple[aioredis.Redis, Keys]
) -> None:
    acct = _acct(db, redis)
    await _user(acct, phone="+8613800001111", password_hash=passwords.hash_password(PASSWORD))
    spellings = ["13800001111", "+8613800001111", "+86 138 0000 1111", "138-0000-1111"]
    answers = [type(await _refused(acct, s, "guess", ip=GUESSER_IP)) for s in spellings]
    assert answers == [InvalidCredentials] * 3 + [SignInThrottled]
