"""The event catalogue: envelope, every event type with its schema version, one codec.

Nothing else in MiniLogin turns an event into bytes or back. Payloads carry ids and
facts, never secrets: no session keys, tokens, authorization codes or phone numbers.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from shared import ids


class EventType(StrEnum):
    TICKET_ISSUED = "ticket.issued"
    TICKET_SCANNED = "ticket.scanned"
    TICKET_SCANNER_IDENTIFIED = "ticket.scanner_identified"
    TICKET_CONFIRMED = "ticket.confirmed"
    TICKET_CANCELLED = "ticket.cancelled"
    TICKET_EXPIRED = "ticket.expired"
    LOGIN_SUCCEEDED = "login.succeeded"
    LOGIN_FAILED = "login.failed"
    LOGIN_BINDING_REQUIRED = "login.binding_required"


class _Payload(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# What callers name an event's payload by (any one of the classes below).
Payload = _Payload


class TicketIssued(_Payload):
    connection_id: str
    client_id: str
    expires_at: float


class TicketScanned(_Payload):
    connection_id: str
    openid: str


class TicketScannerIdentified(_Payload):
    """The scanner logs in to an existing account: its profile is now on the ticket (for the
    waiting browser to show; the name and picture themselves stay off the bus)."""

    connection_id: str
    user_id: str


class TicketConfirmed(_Payload):
    connection_id: str
    client_id: str
    openid: str
    unionid: str | None = None
    has_phone: bool = False


class TicketCancelled(_Payload):
    connection_id: str


class TicketExpired(_Payload):
    connection_id: str


class LoginSucceeded(_Payload):
    connection_id: str
    client_id: str
    user_id: str
    created: bool


class LoginFailed(_Payload):
    connection_id: str
    client_id: str
    reason: str


class LoginBindingRequired(_Payload):
    connection_id: str
    client_id: str


PAYLOADS: dict[EventType, type[_Payload]] = {
    EventType.TICKET_ISSUED: TicketIssued,
    EventType.TICKET_SCANNED: TicketScanned,
    EventType.TICKET_SCANNER_IDENTIFIED: TicketScannerIdentified,
    EventType.TICKET_CONFIRMED: TicketConfirmed,
    EventType.TICKET_CANCELLED: TicketCancelled,
    EventType.TICKET_EXPIRED: TicketExpired,
    EventType.LOGIN_SUCCEEDED: LoginSucceeded,
    EventType.LOGIN_FAILED: LoginFailed,
    EventType.LOGIN_BINDING_REQUIRED: LoginBindingRequired,
}

# Current schema version of each type. Bump it and register an upcaster from the old one.
VERSIONS: dict[EventType, int] = dict.fromkeys(EventType, 1)

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]
# (type, version) -> function turning that version's payload into version + 1.
UPCASTERS: dict[tuple[EventType, int], Upcaster] = {}


class Event(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    type: EventType
    version: int
    time: float
    ticket_id: str
    trace_id: str
    payload: _Payload

    @property
    def routing_key(self) -> str:
        return self.type.value


def new_event(
    ticket_id: str, trace_id: str, payload: _Payload, *, at: float | None = None
) -> Event:
    etype = next(t for t, cls in PAYLOADS.items() if isinstance(payload, cls))
    return Event(
        id=ids.event_id(),
        type=etype,
        version=VERSIONS[etype],
        time=time.time() if at is None else at,
        ticket_id=ticket_id,
        trace_id=trace_id,
        payload=payload,
    )


class DecodeError(ValueError):
    """The bytes are not an event we understand: a poison message."""


def encode(event: Event) -> bytes:
    body = event.model_dump(mode="json", serialize_as_any=True)
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


def decode(raw: bytes) -> Event:
    try:
        body = json.loads(raw)
        etype = EventType(body["type"])
        version = int(body["version"])
        payload = dict(body["payload"])
        if version > VERSIONS[etype] or version < 1:
            raise DecodeError(f"unsupported version {version} of {etype}")
        while version < VERSIONS[etype]:
            payload = UPCASTERS[(etype, version)](payload)
            version += 1
        return Event(
            id=str(body["id"]),
            type=etype,
            version=version,
            time=float(body["time"]),
            ticket_id=str(body["ticket_id"]),
            trace_id=str(body["trace_id"]),
            payload=PAYLOADS[etype].model_validate(payload),
        )
    except DecodeError:
        raise
    except (ValueError, KeyError, TypeError, ValidationError) as exc:
        raise DecodeError(str(exc)) from exc
