"""The outbox relay: publishes the outbox streams to the bus with publisher confirms, and
removes an entry only once the broker has confirmed it.

Every process that changes tickets runs one. They share one consumer group per stream, so
each entry goes to one relay; a relay is kicked when its own process writes an entry (the
event leaves at once) and polls every stream besides, for entries written elsewhere while
the broker was away. An entry a relay read but never confirmed (its process died) is
claimed by another after `claim_idle` seconds. While the broker is away nothing is read:
the streams hold the events until it is back, and the requests that wrote them never wait.

When the broker returns, what it held back goes out beside the fresh entries, not ahead of
them: the relay reads through the backlog at once, publishes fresh entries as it finds them,
and hands held-back ones to a pump that keeps `LATE_WINDOW` of them in flight, newest first. A login
started after the outage then waits on neither the backlog's publishes nor its confirms.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
from prometheus_client import Counter, Gauge
from redis.exceptions import RedisError, ResponseError

from shared import ids, logs
from shared.bus import Bus
from shared.events import DecodeError, decode
from shared.keys import OUTBOX_SHARDS, Keys, outbox_shard

log = logs.get(__name__)
GROUP = "relay"
# Entries read per stream per round.
BATCH = 256
# Seconds after which an entry is published as late (Bus.publish): normally an entry leaves
# within milliseconds, so only what a broker outage held back is this old.
LATE_AFTER = 2.0
# Held-back entries a relay has in flight at once: the backlog's pace, beside fresh entries.
LATE_WINDOW = 16
# Held-back entries a relay holds read but unpublished; past this it reads no more until the
# pump catches up (a long outage's backlog is not all loaded into memory).
LATE_HELD = 4096
# Seconds between looks at the streams' length and oldest entry (the gauges below).
MEASURE_EVERY = 5.0

PUBLISHED = Counter(
    "minilogin_outbox_published_total",
    "Outbox entries the broker confirmed; lane late: held back by a broker outage",
    ["lane"],
)
PUBLISH_FAILED = Counter(
    "minilogin_outbox_publish_failures_total",
    "Outbox publishes the broker did not confirm in time (each is tried again)",
    ["lane"],
)
WAITING = Gauge(
    "minilogin_outbox_entries", "Entries in the outbox streams, not yet published and removed"
)
OLDEST = Gauge(
    "minilogin_outbox_oldest_seconds",
    "Age of the oldest entry in the outbox streams (0 when they are empty)",
)


@dataclass(frozen=True)
class Entry:
    stream: str
    id: str
    body: str


class OutboxRelay:
    def __init__(
        self,
        redis: aioredis.Redis,
        keys: Keys,
        bus: Bus,
        *,
        name: str = "",
        poll_seconds: float = 1.0,
        publish_timeout: float = 5.0,
        claim_idle: float = 15.0,
    ) -> None:
        self._redis = redis
        self._keys = keys
        self._bus = bus
        self._streams = keys.outboxes()
        # Unique per process: a consumer of the group holds what it read until it confirms.
        self.consumer = (
            f"{name or 'relay'}-{socket.gethostname()}-{os.getpid()}-{ids.event_id()[:8]}"
        )
        self._poll = poll_seconds
        self._timeout = publish_timeout
        self._claim_idle_ms = int(claim_idle * 1000)
        self._due: set[int] = set()
        self._wake = asyncio.Event()
        self._unconfirmed: list[Entry] = []  # read, published without a confirm: again
        self._late: list[Entry] = []  # read, held back by an outage: for the pump
        self._late_wake = asyncio.Event()
        self._reading_on = False  # a read came back full: the streams hold more unread
        self._abandoned: set[asyncio.Task[None]] = set()
        self.published = 0  # entries confirmed by the broker and removed (metrics, tests)

    def kick(self, ticket_id: str) -> None:
        """An entry was just written for `ticket_id`: read its stream now."""
        self._due.add(outbox_shard(ticket_id))
        self._wake.set()

    def _broker_back(self) -> None:
        # Everything written meanwhile waits in the streams: read them all now.
        self._due.update(range(OUTBOX_SHARDS))
        self._wake.set()
        self._late_wake.set()

    async def run(self) -> None:
        await self._ensure_groups()
        self._bus.when_ready(self._broker_back)
        pump = asyncio.create_task(self._pump_late(), name="outbox-relay-late")
        try:
            await self._relay()
        finally:
            pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pump

    async def _relay(self) -> None:
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        next_sweep = next_measure = 0.0
        next_claim = loop.time() + self._claim_idle_ms / 1000
        while True:
            if task is not None and task.cancelling():
                # Asked to stop, but the cancel was swallowed on the way (redis-py's own
                # `wait_for` around a command, on Python 3.11): stop anyway.
                raise asyncio.CancelledError
            await self._nap()
            self._wake.clear()
            now = loop.time()
            if now >= next_sweep:
                self._due.update(range(OUTBOX_SHARDS))
                next_sweep = now + self._poll
            try:
                if now >= next_measure:  # during an outage too: that is when it grows
                    next_measure = now + MEASURE_EVERY
                    await self._measure()
                if not self._bus.ready():
                    continue  # the streams keep everything until the broker is back
                if now >= next_claim:
                    next_claim = now + self._claim_idle_ms / 1000
                    await self._claim()
                await self._round()
            except RedisError as exc:
                log.warning("outbox_relay_redis_error", error=str(exc))
                if "NOGROUP" in str(exc):
                    await self._ensure_groups()

    async def _nap(self, wake: asyncio.Event | None = None) -> None:
        """Until woken (kicked, by default), or for one poll interval. `wait_for` on Python
        3.11 swallows a cancel that lands as the awaited thing completes; `wait` never does."""
        woken = asyncio.ensure_future((wake or self._wake).wait())
        try:
            await asyncio.wait({woken}, timeout=self._poll)
        finally:
            woken.cancel()

    async def _ensure_groups(self) -> None:
        for stream in self._streams:
            try:
                # From the start of the stream: entries written before the group existed too.
                await self._redis.xgroup_create(stream, GROUP, id="0", mkstream=True)
            except ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise

    async def _round(self) -> None:
        shards, self._due = sorted(self._due), set()
        entries, self._unconfirmed = self._unconfirmed, []
        if shards and len(self._late) >= LATE_HELD:
            self._due.update(shards)  # read once the pump has caught up
        elif shards:
            read, more = await self._read(shards)
            entries += read
            self._reading_on = bool(more)
            if more:  # a batch came back full: the rest of the backlog, and what follows it
                self._due.update(more)
                self._wake.set()
        fresh: list[Entry] = []
        late: list[Entry] = []
        for entry in entries:
            (late if _held_back(entry) else fresh).append(entry)
        if late:
            # In the order Redis wrote them, across streams: the pump takes from the end.
            self._late = sorted([*self._late, *late], key=_written)
        if self._late and not self._reading_on:
            self._late_wake.set()
        if fresh:
            self._unconfirmed += await self._publish(fresh, late=False)

    async def _pump_late(self) -> None:
        """Publishes held-back entries, newest first, `LATE_WINDOW` at a time, while the broker
        is up."""
        task = asyncio.current_task()
        while True:
            if task is not None and task.cancelling():
                raise asyncio.CancelledError  # swallowed by redis-py on the way, as in run
            # While the relay reads on, the newest entries are still to come.
            reading = self._reading_on and len(self._late) < LATE_HELD
            if not self._late or not self._bus.ready() or reading:
                self._late_wake.clear()
                await self._nap(self._late_wake)
                continue
            # Newest first: those people are the likeliest to be still watching their page,
            # and the longest-waiting have already waited out the whole outage.
            window = [self._late.pop() for _ in range(min(LATE_WINDOW, len(self._late)))]
            try:
                failed = await self._publish(window, late=True)
            except RedisError as exc:
                # Published, not removed: left to be claimed, and published again, later.
                log.warning("outbox_relay_redis_error", error=str(exc))
                failed = []
            if len(self._late) < LATE_HELD <= len(self._late) + len(window):
                self._wake.set()  # room again: the relay reads on
            if failed:
                self._late.extend(reversed(failed))
                self._late_wake.clear()
                await self._nap(self._late_wake)  # not straight back at a broker in trouble

    async def _read(self, shards: list[int]) -> tuple[list[Entry], list[int]]:
        """What the shards hold that no relay has read, and the shards that may hold more."""
        # One pipeline: one round trip per server, and each stream on its own Cluster slot.
        async with self._redis.pipeline(transaction=False) as pipe:
            for shard in shards:
                pipe.xreadgroup(GROUP, self.consumer, {self._streams[shard]: ">"}, count=BATCH)
            replies: list[Any] = await pipe.execute()
        out: list[Entry] = []
        more: list[int] = []
        for shard, reply in zip(shards, replies, strict=True):
            for stream, messages in _streams_of(reply):
                out += [_entry(stream, mid, fields) for mid, fields in messages if fields]
                if len(messages) >= BATCH:
                    more.append(shard)
        return out, more

    async def _claim(self) -> None:
        """Take over what a relay that stopped had read but never confirmed."""
        async with self._redis.pipeline(transaction=False) as pipe:
            for stream in self._streams:
                pipe.xautoclaim(
                    stream, GROUP, self.consumer, self._claim_idle_ms, "0-0", count=BATCH
                )
            replies: list[Any] = await pipe.execute()
        held = {e.id for e in self._late}  # read by this relay, waiting on the pump
        for stream, reply in zip(self._streams, replies, strict=True):
            claimed = [_entry(stream, mid, f) for mid, f in reply[1] if f and mid not in held]
            if claimed:
                log.info("outbox_entries_claimed", stream=stream, count=len(claimed))
                self._unconfirmed += claimed

    async def _publish(self, entries: list[Entry], *, late: bool) -> list[Entry]:
        """Publishes `entries` and removes those the broker confirmed; returns the rest."""
        tasks = {asyncio.ensure_future(self._publish_one(e, late)): e for e in entries}
        # Bounded by hand: aio-pika can hang a publish made while it reconnects, cancelled or
        # not, so an attempt past the bound is left behind and the relay goes on.
        done, pending = await asyncio.wait(tasks, timeout=self._timeout)
        for task in pending:
            task.cancel()
            self._abandoned.add(task)
            task.add_done_callback(self._abandoned.discard)
        confirmed: dict[str, list[str]] = {}
        failed: list[Entry] = [tasks[t] for t in pending]
        for task in done:
            entry = tasks[task]
            if task.exception() is None:
                confirmed.setdefault(entry.stream, []).append(entry.id)
            else:
                failed.append(entry)
        lane = "late" if late else "fresh"
        if failed:
            PUBLISH_FAILED.labels(lane).inc(len(failed))
            log.warning("outbox_publish_failed", count=len(failed), timed_out=len(pending))
        if confirmed:
            await self._remove(confirmed)
            PUBLISHED.labels(lane).inc(len(entries) - len(failed))
        return failed

    async def _publish_one(self, entry: Entry, late: bool) -> None:
        try:
            event = decode(entry.body.encode())
        except DecodeError as exc:
            # Written by this code, so never expected: logged and removed, not retried.
            log.error("outbox_entry_undecodable", stream=entry.stream, id=entry.id, error=str(exc))
            return
        await self._bus.publish(event, late=late)

    async def _remove(self, confirmed: dict[str, list[str]]) -> None:
        async with self._redis.pipeline(transaction=False) as pipe:
            for stream, entry_ids in confirmed.items():
                pipe.xack(stream, GROUP, *entry_ids)
                pipe.xdel(stream, *entry_ids)
            await pipe.execute()
        self.published += sum(len(v) for v in confirmed.values())

    async def _measure(self) -> None:
        """The gauges: how much waits in the streams, and since when."""
        async with self._redis.pipeline(transaction=False) as pipe:
            for stream in self._streams:
                pipe.xlen(stream)
                pipe.xrange(stream, count=1)
            replies: list[Any] = await pipe.execute()
        WAITING.set(sum(replies[0::2]))
        firsts = [entries[0][0] for entries in replies[1::2] if entries]
        OLDEST.set(max((_age(mid) for mid in firsts), default=0.0))

    async def pending(self) -> int:
        """Entries not yet published and removed, across every stream (readiness, tests)."""
        async with self._redis.pipeline(transaction=False) as pipe:
            for stream in self._streams:
                pipe.xlen(stream)
            lengths: list[int] = await pipe.execute()
        return sum(lengths)

    async def close(self) -> None:
        for task in list(self._abandoned):
            task.cancel()


def _age(entry_id: str) -> float:
    """Seconds since Redis wrote the entry (its ID starts with the server's time in ms)."""
    return max(0.0, time.time() - int(entry_id.split("-", 1)[0]) / 1000)


def _written(entry: Entry) -> tuple[int, int]:
    """When Redis wrote the entry: its ID, the server's time in ms and a sequence number."""
    ms, _, seq = entry.id.partition("-")
    return int(ms), int(seq or 0)


def _held_back(entry: Entry) -> bool:
    """Whether the entry waited out an outage."""
    return _age(entry.id) > LATE_AFTER


def _streams_of(reply: Any) -> list[tuple[str, list[Any]]]:
    # redis-py gives a list of [stream, messages] under RESP2, a dict under RESP3.
    if not reply:
        return []
    if isinstance(reply, dict):
        return list(reply.items())
    return [(stream, messages) for stream, messages in reply]


def _entry(stream: str, entry_id: str, fields: dict[str, str]) -> Entry:
    return Entry(stream, entry_id, fields.get("body", ""))
