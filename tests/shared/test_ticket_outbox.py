"""The transactional outbox: a ticket change and its event are one step, the relay publishes
what the broker confirms and keeps the rest until it can. Runs on fakeredis, real Redis and
a Redis Cluster of three masters started here."""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis
from prometheus_client import REGISTRY
from redis.exceptions import ResponseError

from shared.bus.memory import MemoryBus
from shared.clock import FakeClock
from shared.events import Event, EventType
from shared.keys import Keys
from shared.redis import open_redis
from shared.tickets import IllegalTransition, TicketStatus, TicketStore, lifecycle
from shared.tickets import relay as relay_module
from shared.tickets.relay import OutboxRelay
from tests.shared.test_ticket_store import RETENTION, new_ticket

TIMEOUT = 10.0


class GatedBus(MemoryBus):
    """The in-memory bus with a broker that can be away: not ready, and publishes fail."""

    def __init__(self) -> None:
        super().__init__()
        self.up = True
        self._back: list[Callable[[], None]] = []
        self.late: list[str] = []  # ids of events published as late

    def ready(self) -> bool:
        return self.up

    def when_ready(self, callback: Callable[[], None]) -> None:
        self._back.append(callback)

    def restore(self) -> None:
        """The broker is back, and the bus says so as aio-pika's reconnect callback does."""
        self.up = True
        for callback in self._back:
            callback()

    async def publish(self, event: Event, *, late: bool = False) -> None:
        if not self.up:
            raise ConnectionError("the broker is away")
        self.late += [event.id] if late else []
        await super().publish(event, late=late)


async def received(bus: GatedBus, types: list[EventType]) -> list[Event]:
    got: list[Event] = []
    done = asyncio.Event()

    async def handle(event: Event) -> None:
        got.append(event)
        if [e.type for e in got] == types:
            done.set()

    await bus.consume("watch", ["#"], handle)
    await asyncio.wait_for(done.wait(), TIMEOUT)
    return got


@contextlib.asynccontextmanager
async def relaying(
    redis: aioredis.Redis, keys: Keys, bus: GatedBus, poll_seconds: float = 0.05
) -> AsyncIterator[OutboxRelay]:
    relay = OutboxRelay(redis, keys, bus, poll_seconds=poll_seconds)
    task = asyncio.create_task(relay.run())
    try:
        yield relay
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await relay.close()


async def all_removed(relay: OutboxRelay) -> None:
    """Until the relay has removed every entry it published."""
    async with asyncio.timeout(TIMEOUT):
        # Removal follows the confirm by a round trip, and Redis tells no one.
        while await relay.pending():  # noqa: ASYNC110  # polling a store without notifications
            await asyncio.sleep(0.01)


async def login_moves(store: TicketStore, clock: FakeClock) -> str:
    ticket = new_ticket(clock)
    await store.create(ticket, RETENTION)
    await lifecycle.scan(store, ticket.id, openid="o-alice", changes={})
    await lifecycle.confirm(store, ticket.id, scanner="o-alice", unionid="", phone="")
    return ticket.id


LOGIN = [EventType.TICKET_ISSUED, EventType.TICKET_SCANNED, EventType.TICKET_CONFIRMED]


async def check_events_leave_once_the_broker_is_back(redis: aioredis.Redis, keys: Keys) -> None:
    clock = FakeClock()
    bus = GatedBus()
    bus.up = False
    async with relaying(redis, keys, bus) as relay:
        store = TicketStore(redis, keys, clock, written=relay.kick)
        ticket_id = await login_moves(store, clock)  # no broker: the moves still succeed
        assert await relay.pending() == 3
        bus.up = True
        got = await received(bus, LOGIN)
        confirmed = got[-1]
        ticket = await store.require(ticket_id)
        # The values the script took from the ticket.
        assert confirmed.trace_id == ticket.trace_id
        assert confirmed.payload.model_dump()["client_id"] == ticket.client_id
        await all_removed(relay)


async def test_events_of_moves_made_while_the_broker_is_away_are_published_when_it_returns(
    redis: aioredis.Redis, keys: Keys
) -> None:
    await check_events_leave_once_the_broker_is_back(redis, keys)


async def test_the_backlog_leaves_as_soon_as_the_bus_is_back_not_at_the_next_poll(
    redis: aioredis.Redis, keys: Keys
) -> None:
    clock = FakeClock()
    bus = GatedBus()
    bus.up = False
    # A poll far longer than the wait below: only the bus's word can start the relay.
    async with relaying(redis, keys, bus, poll_seconds=30) as relay:
        store = TicketStore(redis, keys, clock, written=relay.kick)
        await login_moves(store, clock)
        assert await relay.pending() == 3
        bus.restore()
        got = await received(bus, LOGIN)
        assert [e.type for e in got] == LOGIN


async def test_entries_held_back_are_published_late_and_fresh_ones_are_not(
    redis: aioredis.Redis, keys: Keys, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = FakeClock()
    bus = GatedBus()
    async with relaying(redis, keys, bus) as relay:
        store = TicketStore(redis, keys, clock, written=relay.kick)
        await login_moves(store, clock)  # the broker is up: each leaves at once
        fresh = {e.id for e in await received(bus, LOGIN)}
        assert bus.late == []
        bus.up = False
        # Whatever waits in the outbox now counts as held back by the outage.
        monkeypatch.setattr(relay_module, "LATE_AFTER", -1.0)
        await login_moves(store, clock)
        bus.restore()
        async with asyncio.timeout(TIMEOUT):
            while len(bus.late) < len(LOGIN):  # noqa: ASYNC110  # the relay tells no one
                await asyncio.sleep(0.01)
        assert len(bus.late) == len(LOGIN)
        assert not fresh & set(bus.late)


class SlowLateBus(GatedBus):
    """A broker that takes late publishes but confirms none until `confirm_late` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.confirm_late = asyncio.Event()
        self.late_in_flight = 0
        self.most_late_in_flight = 0
        self.late_order: list[str] = []  # tickets of the late publishes, as they began
        self.window_full = asyncio.Event()  # a whole window of late publishes awaits confirms

    async def publish(self, event: Event, *, late: bool = False) -> None:
        if late and self.up:
            self.late_order.append(event.ticket_id)
            self.late_in_flight += 1
            self.most_late_in_flight = max(self.most_late_in_flight, self.late_in_flight)
            if self.late_in_flight >= relay_module.LATE_WINDOW:
                self.window_full.set()
            try:
                await self.confirm_late.wait()
            finally:
                self.late_in_flight -= 1
        await super().publish(event, late=late)


async def test_a_fresh_entry_leaves_at_once_while_the_backlog_goes_out_newest_first(
    redis: aioredis.Redis, keys: Keys, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = FakeClock()
    bus = SlowLateBus()
    bus.up = False
    # Small batches: the backlog fills several reads of each stream, and the fresh entry sits
    # behind all of them.
    monkeypatch.setattr(relay_module, "BATCH", 4)
    async with relaying(redis, keys, bus) as relay:
        store = TicketStore(redis, keys, clock, written=relay.kick)
        backlog = [await login_moves(store, clock) for _ in range(40)]
        assert await relay.pending() == 3 * len(backlog)

        def held_back(entry: relay_module.Entry) -> bool:
            return json.loads(entry.body)["ticket_id"] in backlog

        # Held back by the outage: the entries written before the broker came back.
        monkeypatch.setattr(relay_module, "_held_back", held_back)
        bus.restore()
        fresh = await login_moves(store, clock)
        got = await received(bus, LOGIN)  # none of the backlog is confirmed yet
        assert {e.ticket_id for e in got} == {fresh}
        assert bus.late == []
        await asyncio.wait_for(bus.window_full.wait(), TIMEOUT)
        assert bus.most_late_in_flight == relay_module.LATE_WINDOW
        # Newest first: the first window holds only the last logins' events (10 logins, 30
        # events, leave room for entries Redis wrote in the same millisecond).
        assert set(bus.late_order[: relay_module.LATE_WINDOW]) <= set(backlog[-10:])
        bus.confirm_late.set()
        await all_removed(relay)
        assert len(bus.late) == 3 * len(backlog)


def _sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_the_metrics_show_what_waits_in_the_outbox_and_what_left(
    redis: aioredis.Redis, keys: Keys
) -> None:
    clock = FakeClock()
    bus = GatedBus()
    bus.up = False
    idle = OutboxRelay(redis, keys, bus)  # not running: measured by hand, between writes
    store = TicketStore(redis, keys, clock)
    await idle._measure()
    assert _sample("minilogin_outbox_entries") == 0
    assert _sample("minilogin_outbox_oldest_seconds") == 0
    await login_moves(store, clock)
    await idle._measure()
    assert _sample("minilogin_outbox_entries") == 3
    assert 0 <= _sample("minilogin_outbox_oldest_seconds") < relay_module.LATE_AFTER
    left = _sample("minilogin_outbox_published_total", lane="fresh")
    async with relaying(redis, keys, bus) as relay:
        bus.restore()
        await received(bus, LOGIN)
        await all_removed(relay)
    await idle._measure()
    assert _sample("minilogin_outbox_entries") == 0
    # Other tests' relays may count too (the counter is the process's).
    assert _sample("minilogin_outbox_published_total", lane="fresh") >= left + 3


async def test_a_relay_stopped_while_it_starts_stops(redis: aioredis.Redis, keys: Keys) -> None:
    # A service stopped at once: the relay is still creating its consumer groups, and on
    # Python 3.11 redis-py's `wait_for` around a command can swallow the cancel. The relay
    # must stop anyway, or the service's shutdown waits on it forever.
    bus = GatedBus()
    bus.up = False
    relay = OutboxRelay(redis, keys, bus, poll_seconds=3600)
    task = asyncio.create_task(relay.run())
    await login_moves(TicketStore(redis, keys, FakeClock(), written=relay.kick), FakeClock())
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=TIMEOUT)
    assert task in done
    assert task.cancelled()


async def test_a_refused_move_announces_nothing(redis: aioredis.Redis, keys: Keys) -> None:
    clock = FakeClock()
    store = TicketStore(redis, keys, clock)
    ticket = new_ticket(clock)
    await store.create(ticket, RETENTION)
    with pytest.raises(IllegalTransition):
        await lifecycle.confirm(store, ticket.id, scanner="o-alice", unionid="", phone="")
    lengths = [await redis.xlen(s) for s in keys.outboxes()]
    assert sum(lengths) == 1  # ticket.issued only


def _free_port() -> int:
    """A free port whose cluster bus port (10,000 higher) is free too."""
    for port in random.sample(range(20000, 45000), 200):
        with contextlib.ExitStack() as stack:
            try:
                for p in (port, port + 10000):
                    s = stack.enter_context(socket.socket())
                    s.bind(("127.0.0.1", p))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port pair")


def _until_answered(command: list[str], answer: str) -> None:
    """Run `command` until its output holds `answer`: the servers start and the cluster
    agrees on its slots on their own schedule, telling no client."""
    for _ in range(200):
        out = subprocess.run(command, capture_output=True, text=True, check=False).stdout  # noqa: S603  # our own arguments
        if answer in out:
            return
        time.sleep(0.05)  # polling a server that has no notification
    raise TimeoutError(f"{command} never answered {answer}")


@pytest.fixture
def redis_cluster(tmp_path: Path) -> Iterator[str]:
    """Three masters on free ports, in this test's folder; stopped after it."""
    server, cli = shutil.which("redis-server"), shutil.which("redis-cli")
    if server is None or cli is None:
        pytest.skip("redis-server is not installed")
    ports = [_free_port() for _ in range(3)]
    procs = []
    for port in ports:
        folder = tmp_path / str(port)
        folder.mkdir()
        procs.append(
            subprocess.Popen(  # noqa: S603  # our own server binary and arguments
                [
                    server,
                    "--port", str(port), "--bind", "127.0.0.1",
                    "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                    "--dir", str(folder), "--save", "", "--appendonly", "no",
                ],
                stdout=subprocess.DEVNULL,
            )
        )  # fmt: skip
    try:
        for port in ports:
            _until_answered([cli, "-p", str(port), "ping"], "PONG")
        subprocess.run(  # noqa: S603
            [cli, "--cluster", "create", *(f"127.0.0.1:{p}" for p in ports),
             "--cluster-yes"],
            check=True, stdout=subprocess.DEVNULL, timeout=30,
        )  # fmt: skip
        _until_answered([cli, "-p", str(ports[0]), "cluster", "info"], "cluster_state:ok")
        yield "redis+cluster://" + ",".join(f"127.0.0.1:{p}" for p in ports)
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(10)


@pytest.mark.real
async def test_outbox_and_moves_work_on_a_redis_cluster(redis_cluster: str, ns: str) -> None:
    redis = open_redis(redis_cluster)
    try:
        await check_events_leave_once_the_broker_is_back(redis, Keys(ns))
    finally:
        await redis.aclose()


@pytest.mark.real
async def test_on_a_redis_cluster_what_a_move_writes_besides_is_stored_before_it(
    redis_cluster: str, ns: str
) -> None:
    # The code a login's success carries lives on another node than its ticket. Stored after
    # the move, a browser told at once could present a code Redis does not hold yet; so a
    # write that fails leaves the ticket where it was, and nobody is told.
    redis = open_redis(redis_cluster)
    keys, clock = Keys(ns), FakeClock()
    store = TicketStore(redis, keys, clock)
    try:
        ticket = new_ticket(clock)
        await store.create(ticket, RETENTION)
        occupied = f"{ns}:not-a-number"
        await redis.set(occupied, "x")  # INCR of it is refused

        def store_session(pipe: Any) -> None:
            pipe.incr(occupied)

        with pytest.raises(ResponseError):
            await lifecycle.scan(store, ticket.id, openid="o-alice", changes={}, also=store_session)
        assert (await store.require(ticket.id)).status is TicketStatus.PENDING
        assert sum([await redis.xlen(s) for s in keys.outboxes()]) == 1  # ticket.issued only

        written = f"{ns}:session"

        def store_fine(pipe: Any) -> None:
            pipe.set(written, "session", ex=60)

        await lifecycle.scan(store, ticket.id, openid="o-alice", changes={}, also=store_fine)
        assert await redis.get(written) == "session"
        await redis.delete(occupied, written)
    finally:
        await redis.aclose()
