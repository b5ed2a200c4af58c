from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

from shared.events import Event

Handler = Callable[[Event], Awaitable[None]]

# A message whose handler fails is delivered again after each of these delays (seconds),
# then dead-lettered: a handler failing on a passing fault (a store failing over) gets time.
# The default of ML_BUS_RETRY_DELAYS.
RETRY_DELAYS: tuple[float, ...] = (0.2, 1.0, 5.0, 15.0, 30.0)
# Deliveries of one message a quorum queue allows before it dead-letters the message, for
# what the bus's own count cannot see: a consumer that dies holding it, again and again. A
# queue argument, so fixed: a queue declared again with another value is refused.
DELIVERY_LIMIT = 5
# Work queue kinds a RabbitMQ deployment may choose (ML_BUS_QUEUE_TYPE).
QUEUE_TYPES = ("quorum", "classic")
# Seconds between attempts to reconnect to RabbitMQ (ML_BUS_RECONNECT_SECONDS).
RECONNECT_SECONDS = 1.0
# Routing-key prefix of a late event (see Bus.publish).
LATE_PREFIX = "late."


class Bus(Protocol):
    async def publish(self, event: Event, *, late: bool = False) -> None:
        """Returns once the broker has confirmed the message. `late`: an event the outbox
        held while the broker was away; work queues take it from a lane of its own, so the
        logins started since are not queued behind that backlog."""
        ...

    async def consume(
        self, queue: str, keys: Sequence[str], handler: Handler, *, exclusive: bool = False
    ) -> None:
        """Start delivering events whose type matches one of `keys` (AMQP topic patterns).

        `exclusive=True` gives this process its own transient queue (fan-out to replicas),
        delivered at most once: no acknowledgements, no redelivery, no dead letters. It is
        for notifications whose state lives elsewhere (the notifier re-reads the ticket).
        Otherwise `queue` is durable and shared by every replica (work sharing), with manual
        acknowledgement, redelivery after each of the retry delays and then a dead-letter
        queue.
        """
        ...

    async def ping(self) -> None:
        """Raise when the broker cannot be reached (readiness)."""
        ...

    def ready(self) -> bool:
        """Connected, with every channel restored: a publish now will not wait on a
        reconnection (the outbox relay publishes only then)."""
        ...

    def when_ready(self, callback: Callable[[], None]) -> None:
        """Call `callback` each time the bus becomes ready again after a loss (the relay
        starts on its backlog at once instead of at its next poll)."""
        ...

    async def dead_letters(self, queue: str) -> list[bytes]:
        """Drain and return the bodies sitting in `queue`'s dead-letter queue."""
        ...

    async def close(self) -> None: ...


async def open_bus(
    url: str,
    namespace: str,
    queue_type: str = "quorum",
    *,
    reconnect_seconds: float = RECONNECT_SECONDS,
    retry_delays: Sequence[float] = RETRY_DELAYS,
) -> Bus:
    """The bus `url` names; a RabbitMQ connection that drops is dialled again at once, then
    every `reconnect_seconds` until the broker answers. A failed delivery is retried after
    each of `retry_delays` in turn, then dead-lettered."""
    if url.startswith("memory://"):
        from shared.bus.memory import MemoryBus

        return MemoryBus.shared(url, namespace, retry_delays=retry_delays)
    from shared.bus.rabbit import RabbitBus

    return await RabbitBus.connect(
        url,
        namespace,
        queue_type,
        reconnect_seconds=reconnect_seconds,
        retry_delays=retry_delays,
    )


def topic_matches(pattern: str, key: str) -> bool:
    """AMQP topic matching: `*` is one word, `#` zero or more."""
    p, k = pattern.split("."), key.split(".")

    def match(i: int, j: int) -> bool:
        if i == len(p):
            return j == len(k)
        if p[i] == "#":
            return any(match(i + 1, jj) for jj in range(j, len(k) + 1))
        if j == len(k):
            return False
        return (p[i] == "*" or p[i] == k[j]) and match(i + 1, j + 1)

    return match(0, 0)
