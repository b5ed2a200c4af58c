"""The ticket state machine in Redis: legal moves, typed refusals that change nothing, races
settled atomically, expiry on an injected clock. Runs on fakeredis and on real Redis."""

from __future__ import annotations

import asyncio
from typing import Any, cast

import pytest
import redis.asyncio as aioredis

from shared import ids
from shared.clock import FakeClock
from shared.errors import AppError, RateLimited
from shared.keys import Keys
from shared.ratelimit import RateLimiter
from shared.tickets import (
    IllegalTransition,
    NotScanner,
    Ticket,
    TicketAlreadyScanned,
    TicketCancelled,
    TicketExpired,
    TicketNotFound,
    TicketStatus,
    TicketStore,
)
from shared.tickets.view import status_message

S = TicketStatus
TTL = 120
RETENTION = 300
ALICE, BOB = "o-alice", "o-bob"


def new_ticket(clock: FakeClock, **changes: Any) -> Ticket:
    now = clock.now()
    ticket = Ticket(
        id=ids.ticket_id(),
        status=S.PENDING,
        version=1,
        connection_id="conn_demo",
        client_id="app_demo",
        redirect_uri="https://rp.example/callback",
        state="st-1",
        code_challenge="E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        nonce="n-1",
        binding_hash=ids.sha256_hex("binding"),
        created_at=now,
        expires_at=now + TTL,
        trace_id=ids.trace_id(),
        pc_ip="203.0.113.9",
        pc_user_agent="Mozilla/5.0",
    )
    return ticket.with_changes(**changes)


async def created(store: TicketStore, clock: FakeClock, **changes: Any) -> Ticket:
    ticket = new_ticket(clock, **changes)
    await store.create(ticket, RETENTION)
    return ticket


async def scanned_by(store: TicketStore, clock: FakeClock, openid: str) -> Ticket:
    ticket = await created(store, clock)
    return await store.transition(
        ticket.id, S.SCANNED, changes={"scanner_openid": openid, "scanned_at": clock.now()}
    )


async def stored_hash(redis: aioredis.Redis, keys: Keys, ticket_id: str) -> dict[str, str]:
    # The test clients decode responses, so the hash comes back as str.
    return cast("dict[str, str]", await redis.hgetall(keys.ticket(ticket_id)))


async def test_created_ticket_reads_back_equal(store: TicketStore, clock: FakeClock) -> None:
    ticket = await created(store, clock)
    assert await store.get(ticket.id) == ticket
    assert await store.require(ticket.id) == ticket


async def test_missing_ticket_reads_as_none_and_require_refuses(store: TicketStore) -> None:
    assert await store.get("nosuchticket") is None
    with pytest.raises(TicketNotFound):
        await store.require("nosuchticket")


async def test_legal_transitions_succeed_and_bump_the_version(
    store: TicketStore, clock: FakeClock
) -> None:
    ticket = await created(store, clock)
    after_scan = await store.transition(
        ticket.id, S.SCANNED, changes={"scanner_openid": ALICE, "scanned_at": clock.now()}
    )
    assert (after_scan.status, after_scan.version, after_scan.scanner_openid) == (
        S.SCANNED,
        2,
        ALICE,
    )
    after_confirm = await store.transition(
        ticket.id, S.CONFIRMED, scanner=ALICE, changes={"phone": ""}
    )
    assert (after_confirm.status, after_confirm.version) == (S.CONFIRMED, 3)
    done = await store.transition(
        ticket.id, S.SUCCEEDED, changes={"user_id": "usr_1", "redirect_url": "https://rp/cb"}
    )
    assert (done.status, done.version, done.user_id) == (S.SUCCEEDED, 4, "usr_1")
    assert await store.get(ticket.id) == done
    assert done == ticket.with_changes(
        status=S.SUCCEEDED,
        version=4,
        scanner_openid=ALICE,
        scanned_at=clock.now(),
        user_id="usr_1",
        redirect_url="https://rp/cb",
    )


@pytest.mark.parametrize("end", [S.SUCCEEDED, S.FAILED, S.BINDING_REQUIRED])
async def test_confirmed_ticket_may_end_in_each_outcome(
    store: TicketStore, clock: FakeClock, end: TicketStatus
) -> None:
    ticket = await scanned_by(store, clock, ALICE)
    await store.transition(ticket.id, S.CONFIRMED, scanner=ALICE)
    assert (await store.transition(ticket.id, end)).status == end


async def test_pending_ticket_may_be_cancelled(store: TicketStore, clock: FakeClock) -> None:
    ticket = await created(store, clock)
    cancelled = await store.transition(ticket.id, S.CANCELLED)
    assert (cancelled.status, cancelled.version) == (S.CANCELLED, 2)


async def test_scanned_ticket_may_be_cancelled_by_its_scanner(
    store: TicketStore, clock: FakeClock
) -> None:
    ticket = await scanned_by(store, clock, ALICE)
    cancelled = await store.transition(ticket.id, S.CANCELLED, scanner=ALICE)
    assert (cancelled.status, cancelled.version, cancelled.scanner_openid) == (
        S.CANCELLED,
        3,
        ALICE,
    )


async def _assert_refused(
    store: TicketStore,
    redis: aioredis.Redis,
    keys: Keys,
    ticket_id: str,
    to: TicketStatus,
    error: type[AppError],
    **kw: Any,
) -> None:
    before = await stored_hash(redis, keys, ticket_id)
    with pytest.raises(error) as info:
        await store.transition(ticket_id, to, changes={"reason": "must not be written"}, **kw)
    assert type(info.value) is error
    assert await stored_hash(redis, keys, ticket_id) == before


async def test_a_move_only_from_pending_leaves_a_scanned_ticket_alone(
    store: TicketStore, redis: aioredis.Redis, keys: Keys, clock: FakeClock
) -> None:
    pending = await created(store, clock)
    cancelled = await store.transition(pending.id, S.CANCELLED, only_from=frozenset({S.PENDING}))
    assert cancelled.status == S.CANCELLED
    ticket = await scanned_by(store, clock, ALICE)
    await _assert_refused(
        store,
        redis,
        keys,
        ticket.id,
        S.CANCELLED,
        IllegalTransition,
        only_from=frozenset({S.PENDING}),
    )


async def test_second_scanner_is_refused_when_ticket_already_scanned(
    store: TicketStore, redis: aioredis.Redis, keys: Keys, clock: FakeClock
) -> None:
    ticket = await scanned_by(store, clock, ALICE)
    await _assert_refused(store, redis, keys, ticket.id, S.SCANNED, TicketAlreadyScanned)
    assert TicketAlreadyScanned.code == "ticket_already_scanned"


@pytest.mark.parametrize("to", [S.SCANNED, S.CONFIRMED])
async def test_moves_on_a_cancelled_ticket_are_refused_as_cancelled(
    store: TicketStore, redis: aioredis.Redis, keys: Keys, clock: FakeClock, to: TicketStatus
) -> None:
    ticket = await created(store, clock, status=S.CANCELLED, scanner_openid=ALICE)
    await _assert_refused(store, redis, keys, ticket.id, to, TicketCancelled, scanner=ALICE)
    assert TicketCancelled.code == "ticket_cancelled"


@pytest.mark.parametrize(
    ("start", "to"),
    [
        (S.PENDING, S.CONFIRMED),
        (S.PENDING, S.SUCCEEDED),
        (S.PENDING, S.FAILED),
        (S.CONFIRMED, S.CANCELLED),
        (S.CONFIRMED, S.CONFIRMED),
        (S.SUCCEEDED, S.FAILED),
        (S.PENDING, S.EXPIRED),  # not yet lapsed
    ],
)
async def test_illegal_transitions_are_refused_and_change_nothing(
    store: TicketStore,
    redis: aioredis.Redis,
    keys: Keys,
    clock: FakeClock,
    start: TicketStatus,
    to: TicketStatus,
) -> None:
    ticket = await created(store, clock, status=start)
    await _assert_refused(store, redis, keys, ticket.id, to, IllegalTransition)
    assert IllegalTransition.code == "illegal_transition"


@pytest.mark.parametrize("to", [S.CONFIRMED, S.CANCELLED])
async def test_only_the_scanner_may_confirm_or_cancel(
    store: TicketStore, redis: aioredis.Redis, keys: Keys, clock: FakeClock, to: TicketStatus
) -> None:
    ticket = await scanned_by(store, clock, ALICE)
    await _assert_refused(store, redis, keys, ticket.id, to, NotScanner, scanner=BOB)
    assert NotScanner.code == "not_scanner"


async def test_transition_of_a_missing_ticket_is_refused_as_not_found(
    store: TicketStore, redis: aioredis.Redis, keys: Keys
) -> None:
    with pytest.raises(TicketNotFound):
        await store.transition("nosuchticket", S.SCANNED)
    assert not await redis.exists(keys.ticket("nosuchticket"))
    assert TicketNotFound.code == "ticket_not_found"


async def test_two_scanners_at_once_exactly_one_wins(store: TicketStore, clock: FakeClock) -> None:
    ticket = await created(store, clock)
    results = await asyncio.gather(
        *(
            store.transition(ticket.id, S.SCANNED, changes={"scanner_openid": who})
            for who in (ALICE, BOB)
        ),
        return_exceptions=True,
    )
    wins = [r for r in results if isinstance(r, Ticket)]
    losses = [r for r in results if isinstance(r, BaseException)]
    assert len(wins) == 1
    assert len(losses) == 1
    assert type(losses[0]) is TicketAlreadyScanned
    stored = await store.require(ticket.id)
    assert stored.scanner_openid == wins[0].scanner_openid
    assert (stored.status, stored.version) == (S.SCANNED, 2)


async def test_two_confirms_at_once_exactly_one_succeeds(
    store: TicketStore, clock: FakeClock
) -> None:
    ticket = await scanned_by(store, clock, ALICE)
    results = await asyncio.gather(
        store.transition(ticket.id, S.CONFIRMED, scanner=ALICE, changes={"phone": "first"}),
        store.transition(ticket.id, S.CONFIRMED, scanner=ALICE, changes={"phone": "second"}),
        return_exceptions=True,
    )
    wins = [r for r in results if isinstance(r, Ticket)]
    losses = [r for r in results if isinstance(r, BaseException)]
    assert len(wins) == 1
    assert [type(e) for e in losses] == [IllegalTransition]
    stored = await store.require(ticket.id)
    assert (stored.status, stored.version, stored.phone) == (S.CONFIRMED, 3, wins[0].phone)


async def test_confirm_racing_cancel_exactly_one_wins(store: TicketStore, clock: FakeClock) -> None:
    ticket = await scanned_by(store, clock, ALICE)
    results = await asyncio.gather(
        store.transition(ticket.id, S.CONFIRMED, scanner=ALICE),
        store.transition(ticket.id, S.CANCELLED, scanner=ALICE),
        return_exceptions=True,
    )
    wins = [r for r in results if isinstance(r, Ticket)]
    losses = [r for r in results if isinstance(r, BaseException)]
    assert len(wins) == 1
    assert len(losses) == 1
    # Whichever lost, it lost to the winner's state.
    assert type(losses[0]) in (IllegalTransition, TicketCancelled)
    stored = await store.require(ticket.id)
    assert (stored.status, stored.version) == (wins[0].status, 3)


async def test_scan_after_expiry_is_refused_as_expired(
    store: TicketStore, redis: aioredis.Redis, keys: Keys, clock: FakeClock
) -> None:
    ticket = await created(store, clock)
    clock.advance(TTL)  # the lifetime ends exactly at expires_at
    await _assert_refused(store, redis, keys, ticket.id, S.SCANNED, TicketExpired)
    assert TicketExpired.code == "ticket_expired"


async def test_confirm_after_expiry_is_refused_as_expired(
    store: TicketStore, redis: aioredis.Redis, keys: Keys, clock: FakeClock
) -> None:
    ticket = await scanned_by(store, clock, ALICE)
    clock.advance(TTL + 1)
    await _assert_refused(store, redis, keys, ticket.id, S.CONFIRMED, TicketExpired, scanner=ALICE)


@pytest.mark.parametrize("start", [S.PENDING, S.SCANNED])
async def test_transition_to_expired_is_allowed_only_after_the_lifetime_ends(
    store: TicketStore, redis: aioredis.Redis, keys: Keys, clock: FakeClock, start: TicketStatus
) -> None:
    ticket = await created(store, clock, status=start)
    clock.advance(TTL - 1)
    await _assert_refused(store, redis, keys, ticket.id, S.EXPIRED, IllegalTransition)
    clock.advance(1)
    expired = await store.transition(ticket.id, S.EXPIRED, changes={"finished_at": clock.now()})
    assert (expired.status, expired.version, expired.finished_at) == (S.EXPIRED, 2, clock.now())
    # Once recorded, later moves are refused as expired.
    await _assert_refused(store, redis, keys, ticket.id, S.SCANNED, TicketExpired)
    await _assert_refused(store, redis, keys, ticket.id, S.EXPIRED, TicketExpired)


async def test_confirmed_ticket_does_not_expire(
    store: TicketStore, redis: aioredis.Redis, keys: Keys, clock: FakeClock
) -> None:
    ticket = await scanned_by(store, clock, ALICE)
    await store.transition(ticket.id, S.CONFIRMED, scanner=ALICE)
    clock.advance(TTL + 1)
    await _assert_refused(store, redis, keys, ticket.id, S.EXPIRED, IllegalTransition)
    assert (await store.transition(ticket.id, S.SUCCEEDED)).status == S.SUCCEEDED


async def test_terminal_ticket_stays_readable_until_the_key_ttl(
    store: TicketStore, redis: aioredis.Redis, keys: Keys, clock: FakeClock
) -> None:
    ticket = await created(store, clock)
    key = keys.ticket(ticket.id)
    lifetime_ms = (TTL + RETENTION) * 1000
    ttl_at_create = await redis.pttl(key)
    assert lifetime_ms - 5_000 < ttl_at_create <= lifetime_ms
    cancelled = await store.transition(ticket.id, S.CANCELLED)
    # The transition keeps the key's expiry: readable for the retention, then gone.
    assert 0 < await redis.pttl(key) <= ttl_at_create
    clock.advance(TTL + RETENTION - 1)
    assert await store.get(ticket.id) == cancelled
    await redis.delete(key)  # what Redis does when the TTL runs out
    assert await store.get(ticket.id) is None
    with pytest.raises(TicketNotFound):
        await store.transition(ticket.id, S.SCANNED)


async def test_status_message_shows_expired_for_a_lapsed_pending_ticket(
    store: TicketStore, clock: FakeClock
) -> None:
    ticket = await created(store, clock)
    assert status_message(ticket, clock.now())["status"] == "pending"
    clock.advance(TTL)
    stored = await store.require(ticket.id)
    assert stored.status == S.PENDING  # nobody has recorded the expiry yet
    msg = status_message(stored, clock.now())
    assert msg == {
        "type": "status",
        "ticket": ticket.id,
        "status": "expired",
        "version": 2,  # the version the recorded expiry will carry
        "expires_at": ticket.expires_at,
    }


async def test_transition_sends_extra_writes_in_the_same_round_trip(
    store: TicketStore, redis: aioredis.Redis, clock: FakeClock, ns: str
) -> None:
    ticket = await created(store, clock)
    key = f"{ns}:extra"
    moved = await store.transition(
        ticket.id, S.CANCELLED, changes={"finished_at": clock.now()},
        also=lambda pipe: pipe.set(key, "written", ex=60),
    )  # fmt: skip
    assert moved.status == S.CANCELLED
    assert await redis.get(key) == "written"


async def test_refused_transition_with_extra_writes_still_raises_its_refusal(
    store: TicketStore, clock: FakeClock, ns: str
) -> None:
    ticket = await created(store, clock)
    with pytest.raises(IllegalTransition):
        await store.transition(
            ticket.id, S.SUCCEEDED, also=lambda pipe: pipe.set(f"{ns}:extra", "x", ex=60)
        )
    assert (await store.require(ticket.id)).status == S.PENDING


async def test_pipelined_transition_survives_a_server_that_lost_its_scripts(
    store: TicketStore, redis: aioredis.Redis, clock: FakeClock, ns: str
) -> None:
    ticket = await created(store, clock)
    await redis.script_flush()  # as after a Redis restart or failover
    moved = await store.transition(
        ticket.id, S.CANCELLED, also=lambda pipe: pipe.set(f"{ns}:extra", "x", ex=60)
    )
    assert moved.status == S.CANCELLED
    assert moved.version == ticket.version + 1  # moved once, not twice


async def test_created_ticket_reads_back_equal_and_lives_its_ttl_plus_retention(
    store: TicketStore, redis: aioredis.Redis, keys: Keys, clock: FakeClock
) -> None:
    ticket = await created(store, clock)
    assert await store.get(ticket.id) == ticket
    assert (
        (TTL + RETENTION - 1) * 1000
        < await redis.pttl(keys.ticket(ticket.id))
        <= (TTL + RETENTION) * 1000
    )


async def test_creating_with_a_rate_limit_stores_nothing_past_it(
    store: TicketStore, redis: aioredis.Redis, keys: Keys, clock: FakeClock
) -> None:
    limiter = RateLimiter(redis, keys, clock)
    first = [new_ticket(clock) for _ in range(3)]
    for t in first:
        await store.create(t, RETENTION, count=limiter.window("t", "198.51.100.1", limit=3, per=60))
    refused = new_ticket(clock)
    with pytest.raises(RateLimited) as info:
        await store.create(
            refused, RETENTION, count=limiter.window("t", "198.51.100.1", limit=3, per=60)
        )
    assert 1 <= info.value.details["retry_after"] <= 61
    assert await store.get(refused.id) is None
    assert [await store.get(t.id) for t in first] == first
    # Another address has its own count, and plain hits share the same one.
    await store.create(
        new_ticket(clock), RETENTION, count=limiter.window("t", "198.51.100.2", limit=3, per=60)
    )
    with pytest.raises(RateLimited):
        await limiter.hit("t", "198.51.100.1", limit=3, per=60)


async def test_the_limit_on_creating_resets_in_the_next_window(
    store: TicketStore, redis: aioredis.Redis, keys: Keys, clock: FakeClock
) -> None:
    limiter = RateLimiter(redis, keys, clock)
    clock.advance(-(clock.now() % 60))
    await store.create(
        new_ticket(clock), RETENTION, count=limiter.window("t", "a", limit=1, per=60)
    )
    with pytest.raises(RateLimited):
        await store.create(
            new_ticket(clock), RETENTION, count=limiter.window("t", "a", limit=1, per=60)
        )
    clock.advance(60)
    later = new_ticket(clock)
    await store.create(later, RETENTION, count=limiter.window("t", "a", limit=1, per=60))
    assert await store.get(later.id) == later


async def test_amending_a_scanned_ticket_shows_the_change_as_its_next_version(
    store: TicketStore, clock: FakeClock
) -> None:
    ticket = await scanned_by(store, clock, ALICE)
    amended = await store.amend(ticket.id, S.SCANNED, {"account_nickname": "王小明"})
    assert (amended.status, amended.version, amended.account_nickname) == (
        S.SCANNED,
        ticket.version + 1,
        "王小明",
    )
    assert await store.require(ticket.id) == amended
    msg = status_message(amended, clock.now())
    assert msg["version"] == ticket.version + 1
    assert msg["account"] == {"nickname": "王小明", "avatar_url": None}
    # The scanner can still confirm: the amendment moved nothing.
    assert (await store.transition(ticket.id, S.CONFIRMED, scanner=ALICE)).status == S.CONFIRMED


@pytest.mark.parametrize(
    ("moved_on", "refusal"),
    [(S.CONFIRMED, IllegalTransition), (S.CANCELLED, IllegalTransition), (None, TicketExpired)],
)
async def test_a_ticket_that_moved_on_is_not_amended(
    store: TicketStore,
    redis: aioredis.Redis,
    keys: Keys,
    clock: FakeClock,
    moved_on: TicketStatus | None,
    refusal: type[AppError],
) -> None:
    ticket = await scanned_by(store, clock, ALICE)
    if moved_on is None:
        clock.advance(TTL)
    else:
        await store.transition(ticket.id, moved_on, scanner=ALICE)
    before = await stored_hash(redis, keys, ticket.id)
    with pytest.raises(refusal):
        await store.amend(ticket.id, S.SCANNED, {"account_nickname": "Mallory"})
    assert await stored_hash(redis, keys, ticket.id) == before
    with pytest.raises(TicketNotFound):
        await store.amend("nosuchticket", S.SCANNED, {"account_nickname": "Mallory"})
