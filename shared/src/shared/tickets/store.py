from __future__ import annotations

import json
from collections.abc import Callable
from importlib import resources
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.client import Pipeline
from redis.asyncio.cluster import RedisCluster
from redis.exceptions import NoScriptError

from shared.clock import Clock
from shared.errors import AppError
from shared.events import Payload, TicketIssued, new_event
from shared.keys import Keys
from shared.ratelimit import COUNT, Window
from shared.redis import send_writes
from shared.tickets.errors import (
    IllegalTransition,
    NotScanner,
    TicketAlreadyScanned,
    TicketCancelled,
    TicketExpired,
    TicketNotFound,
)
from shared.tickets.model import TRANSITIONS, Ticket, TicketStatus
from shared.tickets.outbox import body, from_ticket, template

_SCRIPTS = resources.files("shared.tickets")
_TRANSITION = _SCRIPTS.joinpath("transition.lua").read_text()
_CREATE = _SCRIPTS.joinpath("create.lua").read_text()


def refusal(code: str, current: str, target: TicketStatus) -> AppError:
    """The most useful error for a refused transition, given where the ticket is."""
    if code == "ticket_not_found":
        return TicketNotFound()
    if code == "not_scanner":
        return NotScanner()
    if code == "ticket_expired" or current == TicketStatus.EXPIRED:
        return TicketExpired()
    if current == TicketStatus.CANCELLED:
        return TicketCancelled()
    if target == TicketStatus.SCANNED and current != TicketStatus.PENDING:
        return TicketAlreadyScanned()
    return IllegalTransition(f"The login ticket is {current}; it cannot become {target}.")


class TicketStore:
    """Tickets in Redis. Every change appends its event to the ticket's outbox stream in the
    same script; `written` (the relay's kick) is told the ticket, so the event leaves at once.
    """

    def __init__(
        self,
        redis: aioredis.Redis,
        keys: Keys,
        clock: Clock,
        *,
        written: Callable[[str], None] | None = None,
    ) -> None:
        self._redis = redis
        self._keys = keys
        self._clock = clock
        self._written = written
        self._transition = redis.register_script(_TRANSITION)
        self._create = redis.register_script(_CREATE)
        self._count = redis.register_script(COUNT)

    @property
    def clock(self) -> Clock:
        return self._clock

    async def create(self, ticket: Ticket, retention: int, *, count: Window | None = None) -> None:
        """Store a new ticket and announce it (ticket.issued, through the outbox: creating a
        ticket never waits on the broker); it stays readable `retention` seconds after its
        lifetime ends.

        With `count`, the rate limit is counted in the same round trip, and past it nothing
        is stored and RateLimited is raised. (On a Cluster the counter and the ticket live on
        different slots: two calls there.)"""
        now = self._clock.now()
        ttl_ms = int((ticket.expires_at - now + retention) * 1000)
        issued = TicketIssued(
            connection_id=ticket.connection_id,
            client_id=ticket.client_id,
            expires_at=ticket.expires_at,
        )
        event = new_event(ticket.id, ticket.trace_id, issued, at=now)
        keys = [self._keys.ticket(ticket.id), self._keys.outbox_of(ticket.id)]
        args: list[int | str] = [
            max(ttl_ms, 1),
            json.dumps(ticket.to_redis()),
            event.type.value,
            body(event),
        ]
        if count is not None and isinstance(self._redis, RedisCluster):
            count.check(int(await self._count(keys=[count.key], args=[count.expiry])))
        elif count is not None:
            keys.append(count.key)
            args += [count.expiry, count.limit]
        used = int(await self._create(keys=keys, args=args))
        if count is not None:
            count.check(used)
        self._kick(ticket.id)

    async def get(self, ticket_id: str) -> Ticket | None:
        raw: dict[str, str] = await self._redis.hgetall(self._keys.ticket(ticket_id))  # type: ignore[assignment]  # decode_responses=True gives str
        return Ticket.from_redis(raw) if raw else None

    async def require(self, ticket_id: str) -> Ticket:
        ticket = await self.get(ticket_id)
        if ticket is None:
            raise TicketNotFound()
        return ticket

    async def transition(
        self,
        ticket_id: str,
        to: TicketStatus,
        announce: Payload | None = None,
        *,
        scanner: str = "",
        changes: dict[str, Any] | None = None,
        also: Callable[[Pipeline], object] | None = None,
        only_from: frozenset[TicketStatus] | None = None,
    ) -> Ticket:
        """Move the ticket to `to` if that is legal now and append the event `announce` to
        the outbox in the same step; raise the refusal otherwise (nothing is announced).

        `announce` may hold `from_ticket(field)` markers: the ticket's values after the move.
        shared.tickets.lifecycle names every move with its event; call that. Without
        `announce` nobody is told (tests that play a lost event).

        `scanner` set: only the WeChat user who scanned may make this move. `only_from`
        narrows the states the move may start from (cancel only a ticket nobody has scanned
        yet). `also` queues more commands that are written before the move, whatever its
        outcome, so they may only write what is harmless when the move is refused (a new key
        nobody knows about yet): on one server, on a pipeline with the transition, one round
        trip; on a Redis Cluster, acknowledged first, since their keys live on other nodes
        and the move's event may otherwise reach someone (a code in a browser) before them.
        """
        sources = [
            s
            for s, targets in TRANSITIONS.items()
            if to in targets and (only_from is None or s in only_from)
        ]
        args = self._args(ticket_id, sources, to, scanner, announce, changes)
        keys = [self._keys.ticket(ticket_id), self._keys.outbox_of(ticket_id)]
        if also is not None and isinstance(self._redis, RedisCluster):
            # A Cluster pipeline sends to each node apart, and after a failover resends to
            # the new one later: nothing would keep these writes ahead of the move.
            await send_writes(self._redis, also)
            also = None
        if also is None:
            result = await self._transition(keys=keys, args=args)
        else:
            result = await self._pipelined(keys, args, also)
        if _refused(result):
            raise refusal(result[1], result[2], to)
        self._kick(ticket_id)
        return _ticket_of(result)

    async def amend(
        self,
        ticket_id: str,
        status: TicketStatus,
        changes: dict[str, Any],
        announce: Payload | None = None,
    ) -> Ticket:
        """Set `changes` only while the ticket is `status` (and has not lapsed), announcing
        `announce`: the same status at the next version, so a waiting browser is pushed the
        change. Raises TicketNotFound, TicketExpired or IllegalTransition once the ticket
        has moved on."""
        # The transition script from `status` to itself: the same checks, in one step.
        args = self._args(ticket_id, [status], status, "", announce, changes)
        keys = [self._keys.ticket(ticket_id), self._keys.outbox_of(ticket_id)]
        result = await self._transition(keys=keys, args=args)
        if _refused(result):
            code, current = result[1], result[2]
            if code == "ticket_not_found":
                raise TicketNotFound()
            if code == "ticket_expired":
                raise TicketExpired()
            raise IllegalTransition(f"The login ticket is {current}, no longer {status}.")
        self._kick(ticket_id)
        return _ticket_of(result)

    async def announce(self, ticket: Ticket, payload: Payload) -> None:
        """Append an event about `ticket` to the outbox without changing it: an outcome told
        again for a redelivered event whose work was already done."""
        event = new_event(ticket.id, ticket.trace_id, payload, at=self._clock.now())
        fields = {"type": event.type.value, "body": body(event)}
        await self._redis.xadd(self._keys.outbox_of(ticket.id), fields)  # type: ignore[arg-type]  # redis-py types the fields too narrowly
        self._kick(ticket.id)

    def _kick(self, ticket_id: str) -> None:
        if self._written is not None:
            self._written(ticket_id)

    def _args(
        self,
        ticket_id: str,
        sources: list[TicketStatus],
        to: TicketStatus,
        scanner: str,
        announce: Payload | None,
        changes: dict[str, Any] | None,
    ) -> list[str]:
        now = self._clock.now()
        args = [repr(now), "," + ",".join(sources) + ",", to.value, scanner]
        if announce is None:
            args += ["", "0"]
        else:
            event = new_event(ticket_id, from_ticket("trace_id"), announce, at=now)
            parts = template(event)
            args += [event.type.value, str(len(parts)), *parts]
        for k, v in (changes or {}).items():
            args += [k, str(v)]
        return args

    async def _pipelined(
        self, keys: list[str], args: list[str], also: Callable[[Pipeline], object]
    ) -> Any:
        results = await self._send_with(keys, args, also)
        if any(isinstance(r, NoScriptError) for r in results):
            await self._redis.script_load(_TRANSITION)  # the server lost its scripts
            results = await self._send_with(keys, args, also)
        for r in results:
            if isinstance(r, Exception):
                raise r
        return results[-1]

    async def _send_with(
        self, keys: list[str], args: list[str], also: Callable[[Pipeline], object]
    ) -> list[Any]:
        async with self._redis.pipeline(transaction=False) as pipe:
            also(pipe)
            # EVALSHA by hand: a Script on a pipeline costs a SCRIPT EXISTS round trip.
            pipe.execute_command("EVALSHA", self._transition.sha, len(keys), *keys, *args)
            results: list[Any] = await pipe.execute(raise_on_error=False)
        return results


def _refused(result: Any) -> bool:
    return len(result) == 3 and result[0] == "err"  # a hash always has an even length


def _ticket_of(result: Any) -> Ticket:
    flat = list(result)
    return Ticket.from_redis(dict(zip(flat[::2], flat[1::2], strict=True)))
