"""The RabbitMQ bus (aio-pika): topic exchange, durable work queues, publisher confirms,
manual acks, a delivery limit and a dead-letter queue per work queue, robust reconnect.

Work queues are quorum queues (Raft-replicated: they survive losing a broker node) unless the
deployment asks for classic ones. On one broker node a quorum queue buys no safety and costs
an fsync before each delivery (0.3 to 3.4 ms more per hop at the median on the benchmark
machine, see docs/operations.md), so a single-node deployment may choose `classic`; the delivery
limit, which only quorum queues enforce, is then counted in a message header by this bus.

A failed delivery is retried after a delay: the bus puts a copy, its attempt counted in a
header and its work queue named in another, on the namespace's delay queue for that attempt
(`<ns>.retry.<ms>`). Its messages expire after that long and are dead-lettered to a headers
exchange (`<ns>.requeue`) that each work queue is bound to by its own name, so they go back to
the queue they came from. Past the last delay the message goes to the dead-letter queue. Both
queue types work alike.

Delay queues are shared by all of a namespace's work queues, declared with the first work
queue: five per namespace, not five per work queue (on one broker node, hundreds of idle
quorum queues slow every declaration). Declared up front, not at the first failure, so the
first retry waits its delay and not a queue declaration too."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import aio_pika
from aio_pika.abc import (
    AbstractChannel,
    AbstractExchange,
    AbstractIncomingMessage,
    AbstractQueue,
    AbstractRobustConnection,
)

from shared import logs
from shared.bus.base import (
    DELIVERY_LIMIT,
    LATE_PREFIX,
    QUEUE_TYPES,
    RECONNECT_SECONDS,
    RETRY_DELAYS,
    Handler,
)
from shared.events import DecodeError, Event, decode, encode

log = logs.get(__name__)
# Deliveries so far of a message, counted by the bus itself.
ATTEMPT_HEADER = "x-ml-delivery"
# The work queue a delayed retry goes back to. A headers exchange ignores `x-` headers when
# matching, hence no prefix.
RETURN_HEADER = "ml-return-to"
# Seconds a retry's publish may take before the delivery is handed back to the queue.
RETRY_PUBLISH_TIMEOUT = 5.0
# aiormq holds a channel's lock from a publish until the connection's writer task has
# written it: one publish per event-loop turn per channel. Under load a turn takes
# milliseconds, so on one channel a process's publishes queue behind each other (at 250
# logins/s the gateway completed 15-35 % fewer); they go to the least busy channel instead.
PUBLISH_CHANNELS = 8
# Deliveries of a work queue's late lane in flight per process (its main lane: 64).
LATE_PREFETCH = 8


@dataclass
class _Lane:
    channel: AbstractChannel
    exchange: AbstractExchange
    busy: int = 0  # publishes waiting on this channel


class RabbitBus:
    def __init__(
        self,
        connection: AbstractRobustConnection,
        namespace: str,
        queue_type: str = "quorum",
        *,
        retry_delays: Sequence[float] = RETRY_DELAYS,
    ) -> None:
        if queue_type not in QUEUE_TYPES:
            raise ValueError(f"queue type must be one of {', '.join(QUEUE_TYPES)}")
        self._conn = connection
        self._ns = namespace
        self._queue_type = queue_type
        self._delays_ms = [max(1, round(d * 1000)) for d in retry_delays]
        self._ready = False
        self._lanes: list[_Lane] = []
        self._channels: list[AbstractChannel] = []
        self._declared: list[str] = []
        self._delay_queues: set[str] = set()  # declared by this bus
        self._reconnection_waiters: list[asyncio.Future[None]] = []
        self._ready_callbacks: list[Callable[[], None]] = []

    @classmethod
    async def connect(
        cls,
        url: str,
        namespace: str,
        queue_type: str = "quorum",
        *,
        reconnect_seconds: float = RECONNECT_SECONDS,
        retry_delays: Sequence[float] = RETRY_DELAYS,
    ) -> RabbitBus:
        # aio-pika waits 5 s between attempts by default: a broker back after a blink stayed
        # unused for up to that long (logins came back 6.5 s after it).
        conn = await aio_pika.connect_robust(
            url,
            client_properties={"connection_name": namespace},
            reconnect_interval=reconnect_seconds,
        )
        bus = cls(conn, namespace, queue_type, retry_delays=retry_delays)
        conn.reconnect_callbacks.add(bus._reconnected)
        conn.close_callbacks.add(bus._lost)
        await bus._setup()
        bus._ready = True
        return bus

    @property
    def exchange_name(self) -> str:
        return f"{self._ns}.events"

    async def _setup(self) -> None:
        for _ in range(PUBLISH_CHANNELS):
            channel = await self._conn.channel(publisher_confirms=True)
            exchange = await channel.declare_exchange(
                self.exchange_name, aio_pika.ExchangeType.TOPIC, durable=True
            )
            self._lanes.append(_Lane(channel, exchange))
        await self._lanes[0].channel.declare_exchange(
            f"{self._ns}.dlx", aio_pika.ExchangeType.DIRECT, durable=True
        )
        await self._lanes[0].channel.declare_exchange(
            self._requeue_exchange, aio_pika.ExchangeType.HEADERS, durable=True
        )

    @property
    def _requeue_exchange(self) -> str:
        return f"{self._ns}.requeue"

    def _delay_queue(self, delay_ms: int) -> str:
        return f"{self._ns}.retry.{delay_ms}"

    def _lost(self, *_: object) -> None:
        self._ready = False

    def ready(self) -> bool:
        return self._ready and not self._conn.is_closed

    def _reconnected(self, *_: object) -> None:
        # Called by aio-pika once a lost connection is back, channels and consumers restored.
        log.info("bus_reconnected", namespace=self._ns)
        self._ready = True
        for callback in self._ready_callbacks:
            callback()
        waiters, self._reconnection_waiters = self._reconnection_waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    def when_ready(self, callback: Callable[[], None]) -> None:
        self._ready_callbacks.append(callback)

    def next_reconnection(self) -> asyncio.Future[None]:
        """Done when the connection is next restored after a loss (fault tests wait on it)."""
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._reconnection_waiters.append(waiter)
        return waiter

    def _lane(self) -> _Lane:
        return min(self._lanes, key=lambda lane: lane.busy)

    async def publish(self, event: Event, *, late: bool = False) -> None:
        key = LATE_PREFIX + event.routing_key if late else event.routing_key
        await self.publish_raw(key, encode(event), message_id=event.id, trace_id=event.trace_id)

    async def publish_raw(
        self,
        routing_key: str,
        body: bytes,
        *,
        message_id: str | None = None,
        trace_id: str | None = None,
    ) -> None:
        msg = _message(body, message_id, {"trace_id": trace_id} if trace_id else {})
        lane = self._lane()
        lane.busy += 1
        try:
            # With publisher confirms, this returns once the broker has taken responsibility.
            await lane.exchange.publish(msg, routing_key=routing_key, mandatory=False)
        finally:
            lane.busy -= 1

    def _delay_args(self, delay_ms: int) -> dict[str, Any]:
        """A delay queue: what waits there `delay_ms` goes to the requeue exchange, which
        hands it back to the work queue its header names."""
        args = {
            **self._queue_args(),
            "x-message-ttl": delay_ms,
            "x-dead-letter-exchange": self._requeue_exchange,
        }
        if self._queue_type == "quorum":
            # Dead-lettered with confirms inside the broker: a node lost meanwhile loses none.
            args |= {"x-dead-letter-strategy": "at-least-once", "x-overflow": "reject-publish"}
        return args

    def _queue_args(self) -> dict[str, Any]:
        if self._queue_type == "quorum":
            return {"x-queue-type": "quorum"}
        return {"x-queue-type": "classic", "x-queue-version": 2}

    async def consume(
        self, queue: str, keys: Sequence[str], handler: Handler, *, exclusive: bool = False
    ) -> None:
        channel = await self._conn.channel()
        await channel.set_qos(prefetch_count=64)
        self._channels.append(channel)
        late_keys = [LATE_PREFIX + key for key in keys]
        lanes: list[tuple[AbstractQueue, list[str]]]
        if exclusive:
            own = await channel.declare_queue(
                f"{self._ns}.{queue}.{id(self):x}.{len(self._channels)}",
                exclusive=True,
                auto_delete=True,
                durable=False,
            )
            lanes = [(own, [*keys, *late_keys])]
        else:
            name = f"{self._ns}.{queue}"
            dlx = await channel.get_exchange(f"{self._ns}.dlx")
            dead = await channel.declare_queue(
                f"{name}.dead", durable=True, arguments=self._queue_args()
            )
            await dead.bind(dlx, routing_key=name)
            await self._declare_delay_queues(channel)
            # Events held back by a broker outage have a queue of their own, consumed beside
            # the main one: a login started after the outage is not served after the backlog.
            # Fewer of it in flight at once, too: the handlers of a fresh login share each
            # process with 8 late ones, not 64.
            late_channel = await self._conn.channel()
            await late_channel.set_qos(prefetch_count=LATE_PREFETCH)
            self._channels.append(late_channel)
            lanes = [
                (await self._declare_work_queue(channel, name, name), list(keys)),
                # Both lanes share the dead-letter queue.
                (await self._declare_work_queue(late_channel, f"{name}.late", name), late_keys),
            ]
            self._declared.append(f"{name}.dead")
        for q, bound in lanes:
            for key in bound:
                await q.bind(self.exchange_name, routing_key=key)
            if not exclusive:
                await q.bind(
                    self._requeue_exchange, arguments={"x-match": "all", RETURN_HEADER: q.name}
                )
            await self._consume_lane(q, handler, acked=exclusive)

    async def _declare_work_queue(
        self, channel: AbstractChannel, name: str, dead_letter_key: str
    ) -> AbstractQueue:
        # A guard for what the bus's own count cannot see: a consumer that dies (or is
        # cancelled) with the message, again and again.
        limit = {"x-delivery-limit": DELIVERY_LIMIT} if self._queue_type == "quorum" else {}
        q = await channel.declare_queue(
            name,
            durable=True,
            arguments={
                **self._queue_args(),
                **limit,
                "x-dead-letter-exchange": f"{self._ns}.dlx",
                "x-dead-letter-routing-key": dead_letter_key,
            },
        )
        self._declared.append(name)
        return q

    async def _consume_lane(self, q: AbstractQueue, handler: Handler, *, acked: bool) -> None:
        async def on_message(message: AbstractIncomingMessage) -> None:
            await self._deliver(q.name, message, handler, acked=acked)

        # Exclusive fan-out queues are at most once: the broker does not wait for an ack,
        # which saves a frame per message on the busiest consumer (the notifier).
        await q.consume(on_message, no_ack=acked)

    async def _deliver(
        self, queue: str, message: AbstractIncomingMessage, handler: Handler, *, acked: bool
    ) -> None:
        try:
            event = decode(message.body)
        except DecodeError as exc:
            log.warning("bus_poison_message", queue=queue, error=str(exc))
            if not acked:
                await message.reject(requeue=False)
            return
        try:
            await handler(event)
        except asyncio.CancelledError:
            if not acked:
                await message.nack(requeue=True)
            raise
        except Exception:
            log.exception(
                "bus_handler_failed",
                queue=queue,
                event_id=event.id,
                trace_id=event.trace_id,
                redelivered=message.redelivered,
            )
            if not acked:
                await self._retry_or_dead_letter(queue, message)
        else:
            if not acked:
                await message.ack()

    async def _retry_or_dead_letter(self, queue: str, message: AbstractIncomingMessage) -> None:
        # The copy is confirmed before the original is acked: a crash in between duplicates
        # the message, which idempotent consumers absorb, and never loses it.
        headers = dict(message.headers or {})
        delivery = _int(headers.get(ATTEMPT_HEADER), 1)
        if delivery > len(self._delays_ms):
            with contextlib.suppress(Exception):  # a closed channel hands it back anyway
                await message.reject(requeue=False)  # to the dead-letter queue
            return
        headers[ATTEMPT_HEADER] = delivery + 1
        headers[RETURN_HEADER] = queue
        retry = _message(message.body, message.message_id, headers)
        publish = asyncio.ensure_future(self._publish_delayed(retry, self._delays_ms[delivery - 1]))
        # Bounded by hand (a publish can hang while the connection recovers); on failure the
        # message goes back to its queue instead of staying unacknowledged.
        done, _ = await asyncio.wait({publish}, timeout=RETRY_PUBLISH_TIMEOUT)
        ok = publish in done and publish.exception() is None
        if not ok:
            publish.cancel()
            log.warning("bus_retry_publish_failed", queue=queue, event_id=message.message_id)
        with contextlib.suppress(Exception):
            if ok:
                await message.ack()
            else:
                await message.nack(requeue=True)

    async def _declare_delay_queues(self, channel: AbstractChannel) -> None:
        for delay in self._delays_ms:
            name = self._delay_queue(delay)
            if name not in self._delay_queues:
                await channel.declare_queue(name, durable=True, arguments=self._delay_args(delay))
                self._delay_queues.add(name)

    async def _publish_delayed(self, message: aio_pika.Message, delay_ms: int) -> None:
        channel = self._lane().channel
        await channel.default_exchange.publish(message, routing_key=self._delay_queue(delay_ms))

    async def ping(self) -> None:
        if self._conn.is_closed or not self._lanes or self._lanes[0].channel.is_closed:
            raise ConnectionError("not connected to RabbitMQ")

    async def dead_letters(self, queue: str) -> list[bytes]:
        channel = await self._conn.channel()
        try:
            q = await channel.declare_queue(
                f"{self._ns}.{queue}.dead", durable=True, arguments=self._queue_args()
            )
            out: list[bytes] = []
            while (m := await q.get(no_ack=False, fail=False)) is not None:
                out.append(m.body)
                await m.ack()
            return out
        finally:
            await channel.close()

    async def delete_everything(self, queues: Sequence[str] = ()) -> None:
        """Tests only: remove this namespace's work queues (with their dead-letter queues)
        and exchanges from the broker."""
        channel = await self._conn.channel()
        try:
            names = [
                *self._declared,
                *(f"{self._ns}.{q}" for q in queues),
                *(f"{self._ns}.{q}.late" for q in queues),
                *(f"{self._ns}.{q}.dead" for q in queues),
                *(self._delay_queue(d) for d in self._delays_ms),
            ]
            for name in dict.fromkeys(names):
                await channel.queue_delete(name)
            for ex in (self.exchange_name, f"{self._ns}.dlx", self._requeue_exchange):
                await channel.exchange_delete(ex)
        finally:
            await channel.close()

    async def close(self) -> None:
        for ch in self._channels:
            if not ch.is_closed:
                await ch.close()
        self._channels.clear()
        await self._conn.close()

    def info(self) -> dict[str, Any]:
        return {"exchange": self.exchange_name, "queues": list(self._declared)}


def _message(body: bytes, message_id: str | None, headers: dict[str, Any]) -> aio_pika.Message:
    return aio_pika.Message(
        body,
        content_type="application/json",
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        message_id=message_id,
        headers=headers,
    )


def _int(value: object, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default
