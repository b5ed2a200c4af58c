"""An in-process bus with the same delivery rules as the RabbitMQ one."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from shared import logs
from shared.bus.base import RETRY_DELAYS, Handler, topic_matches
from shared.events import DecodeError, Event, decode, encode

log = logs.get(__name__)


@dataclass
class _Queue:
    name: str
    keys: list[str]
    inbox: asyncio.Queue[tuple[bytes, int]] = field(default_factory=asyncio.Queue)
    dead: list[bytes] = field(default_factory=list)
    transient: bool = False


class _Broker:
    """The queues, shared by every handle opened on the same URL, as a broker would be."""

    def __init__(self) -> None:
        self.queues: dict[str, _Queue] = {}
        self.counter = 0


_BROKERS: dict[tuple[str, str], _Broker] = {}


class MemoryBus:
    def __init__(
        self, broker: _Broker | None = None, *, retry_delays: Sequence[float] = RETRY_DELAYS
    ) -> None:
        self._broker = broker or _Broker()
        self._delays = tuple(retry_delays)
        # Retries not yet due: the queue keeps them if this handle closes first.
        self._timers: dict[asyncio.TimerHandle, tuple[_Queue, bytes, int]] = {}
        self._queues = self._broker.queues
        self._tasks: list[asyncio.Task[None]] = []
        self._exclusive: list[str] = []

    @classmethod
    def shared(
        cls, url: str, namespace: str, *, retry_delays: Sequence[float] = RETRY_DELAYS
    ) -> MemoryBus:
        """Every service of the embedded default opening the same URL meets on one broker."""
        broker = _BROKERS.setdefault((url, namespace), _Broker())
        return cls(broker, retry_delays=retry_delays)

    async def publish(self, event: Event, *, late: bool = False) -> None:
        # One lane: the in-memory broker is never away, so nothing is ever late here.
        body = encode(event)
        for q in self._queues.values():
            if any(topic_matches(k, event.routing_key) for k in q.keys):
                q.inbox.put_nowait((body, 1))

    async def publish_raw(self, routing_key: str, body: bytes) -> None:
        for q in self._queues.values():
            if any(topic_matches(k, routing_key) for k in q.keys):
                q.inbox.put_nowait((body, 1))

    async def consume(
        self, queue: str, keys: Sequence[str], handler: Handler, *, exclusive: bool = False
    ) -> None:
        if exclusive:
            self._broker.counter += 1
            queue = f"{queue}.{self._broker.counter}"
            self._exclusive.append(queue)
        q = self._queues.get(queue)
        if q is None:
            q = self._queues[queue] = _Queue(queue, list(keys), transient=exclusive)
        else:
            q.keys = sorted(set(q.keys) | set(keys))
        self._tasks.append(asyncio.create_task(self._run(q, handler), name=f"bus:{queue}"))

    async def _run(self, q: _Queue, handler: Handler) -> None:
        while True:
            body, attempt = await q.inbox.get()
            try:
                event = decode(body)
            except DecodeError as exc:
                log.warning("bus_poison_message", queue=q.name, error=str(exc))
                if not q.transient:
                    q.dead.append(body)
                continue
            try:
                await handler(event)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception(
                    "bus_handler_failed",
                    queue=q.name,
                    event_id=event.id,
                    attempt=attempt,
                    trace_id=event.trace_id,
                )
                if q.transient:
                    continue  # at most once, as the broker does for exclusive queues
                if attempt > len(self._delays):
                    q.dead.append(body)
                else:
                    self._retry_later(q, body, attempt)

    def _retry_later(self, q: _Queue, body: bytes, attempt: int) -> None:
        def due() -> None:
            self._timers.pop(timer, None)
            q.inbox.put_nowait((body, attempt + 1))

        loop = asyncio.get_running_loop()
        timer = loop.call_later(self._delays[attempt - 1], due)
        self._timers[timer] = (q, body, attempt + 1)

    async def ping(self) -> None:
        return None

    def ready(self) -> bool:
        return True

    def when_ready(self, callback: Callable[[], None]) -> None:
        return None  # never lost

    async def dead_letters(self, queue: str) -> list[bytes]:
        q = self._queues.get(queue)
        if q is None:
            return []
        out, q.dead = q.dead, []
        return out

    async def close(self) -> None:
        for timer, (q, body, attempt) in self._timers.items():
            timer.cancel()
            q.inbox.put_nowait((body, attempt))  # the broker keeps it for the next consumer
        self._timers.clear()
        for t in self._tasks:
            t.cancel()
        for t in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await t
        self._tasks.clear()
        # Exclusive queues die with their consumer; durable ones wait for the next one.
        for name in self._exclusive:
            self._queues.pop(name, None)
        self._exclusive.clear()
