"""The event bus: RabbitMQ in production, in memory for the embedded default.

Both honour one contract (tests/shared/test_bus_contract.py runs against both):
routing by event type on a topic exchange, named queues that survive consumers,
exclusive per-replica queues for fan-out, manual acknowledgement, redelivery of a
failed message up to a limit, then the dead-letter queue; undecodable messages go
straight to the dead-letter queue.
"""

from shared.bus.base import Bus, Handler, open_bus

__all__ = ["Bus", "Handler", "open_bus"]
