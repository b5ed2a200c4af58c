"""The outbox relay: publishes the outbox streams to the bus with publisher confirms, and
removes an entry only once the broker has confirmed it.

Every process that changes tickets runs one. They share one consumer group per stream, so
each entry goes to one relay; a relay is kicked when its own process writes an entry (the
event leaves at once) and polls every stream besides, for entries written elsewhere while
the broker was away. An entry a relay read but never confirmed (its process died) is
claimed by another after `claim_idle` seconds. While the broker is away nothing is read:
the streams hold the events until it is back, and the requests that wrote them never wait.
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
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

    async def run(self) -> None:
        await self._ensure_groups()
        self._bus.when_ready(self._broker_back)
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        next_sweep = 0.0
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
            if not self._bus.ready():
                continue  # the streams keep everything until the broker is back
            try:
                if now >= next_claim:
                    next_claim = now + self._claim_idle_ms / 1000
                    await self._claim()
                await self._round()
            except RedisError as exc:
                log.warning("outbox_relay_redis_error", error=str(exc))
                if "NOGROUP" in str(exc):
                    await self._ensure_groups()

    async def _nap(self) -> None:
        """Until kicked, or for one poll interval. `wait_for` on Python 3.11 swallows a
        cancel that lands as the awaited thing completes; `wait` never does."""
        woken = asyncio.ensure_future(self._wake.wait())
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
        if shards:
            entries += await self._read([self._streams[s] for s in shards])
        if entries:
            await self._publish(entries)

    async def _read(self, streams: list[str]) -> list[Entry]:
        # One pipeline: one round trip per server, and each stream on its own Cluster slot.
        async with self._redis.pipeline(transaction=False) as pipe:
            for stream in streams:
                pipe.xreadgroup(GROUP, self.consumer, {stream: ">"}, count=BATCH)
            replies: list[Any] = await pipe.execute()
        out: list[Entry] = []
        for reply in replies:
            for stream, messages in _streams_of(reply):
                out += [_entry(stream, mid, fields) for mid, fields in messages if fields]
        return out

    async def _claim(self) -> None:
        """Take over what a relay that stopped had read but never confirmed."""
        async with self._redis.pipeline(transaction=False) as pipe:
            for stream in self._streams:
                pipe.xautoclaim(
                    stream, GROUP, self.consumer, self._claim_idle_ms, "0-0", count=BATCH
                )
            replies: list[Any] = await pipe.execute()
        for stream, reply in zip(self._streams, replies, strict=True):
            claimed = [_entry(stream, mid, f) for mid, f in reply[1] if f]
            if claimed:
                log.info("outbox_entries_claimed", stream=stream, count=len(claimed))
                self._unconfirmed += claimed

    async def _publish(self, entries: list[Entry]) -> None:
        tasks = {asyncio.ensure_future(self._publish_one(e)): e for e in entries}
        # Bounded by hand: aio-pika can hang a publish made while it reconnects, cancelled or
        # not, so an attempt past the bound is left behind and the relay goes on.
        done, pending = await asyncio.wait(tasks, timeout=self._timeout)
        for task in pending:
            task.cancel()
            self._abandoned.add(task)
            task.add_done_callback(self._abandoned.discard)
        confirmed: dict[str, list[str]] = {}
        for task in done:
            entry = tasks[task]
            if task.exception() is None:
                confirmed.setdefault(entry.stream, []).append(entry.id)
            else:
                self._unconfirmed.append(entry)
        failed = len(entries) - sum(len(v) for v in confirmed.values())
        if failed:
            log.warning("outbox_publish_failed", count=failed, timed_out=len(pending))
            self._unconfirmed += [tasks[t] for t in pending]
        if confirmed:
            await self._remove(confirmed)

    async def _publish_one(self, entry: Entry) -> None:
        try:
            event = decode(entry.body.encode())
        except DecodeError as exc:
            # Written by this code, so never expected: logged and removed, not retried.
            log.error("outbox_entry_undecodable", stream=entry.stream, id=entry.id, error=str(exc))
            return
        await self._bus.publish(event, late=_age(entry.id) > LATE_AFTER)

    async def _remove(self, confirmed: dict[str, list[str]]) -> None:
        async with self._redis.pipeline(transaction=False) as pipe:
            for stream, entry_ids in confirmed.items():
                pipe.xack(stream, GROUP, *entry_ids)
                pipe.xdel(stream, *entry_ids)
            await pipe.execute()
        self.published += sum(len(v) for v in confirmed.values())

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
    return time.time() - int(entry_id.split("-", 1)[0]) / 1000


def _streams_of(reply: Any) -> list[tuple[str, list[Any]]]:
    # redis-py gives a list of [stream, messages] under RESP2, a dict under RESP3.
    if not reply:
        return []
    if isinstance(reply, dict):
        return list(reply.items())
    return [(stream, messages) for stream, messages in reply]


def _entry(stream: str, entry_id: str, fields: dict[str, str]) -> Entry:
    return Entry(stream, entry_id, fields.get("body", ""))
