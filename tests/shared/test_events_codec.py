"""The one event codec: round trips, poison refused as DecodeError, old versions upcast."""

from __future__ import annotations

import json
from typing import Any

import pytest

from shared import events
from shared.events import (
    PAYLOADS,
    VERSIONS,
    DecodeError,
    Event,
    EventType,
    LoginBindingRequired,
    LoginFailed,
    LoginSucceeded,
    TicketCancelled,
    TicketConfirmed,
    TicketExpired,
    TicketIssued,
    TicketScanned,
    TicketScannerIdentified,
    decode,
    encode,
    new_event,
)

SAMPLES: dict[EventType, events._Payload] = {
    EventType.TICKET_ISSUED: TicketIssued(connection_id="c", client_id="a", expires_at=1.5e9),
    EventType.TICKET_SCANNED: TicketScanned(connection_id="c", openid="o-1"),
    EventType.TICKET_SCANNER_IDENTIFIED: TicketScannerIdentified(connection_id="c", user_id="u_1"),
    EventType.TICKET_CONFIRMED: TicketConfirmed(
        connection_id="c", client_id="a", openid="o-1", unionid="u-1", has_phone=True
    ),
    EventType.TICKET_CANCELLED: TicketCancelled(connection_id="c"),
    EventType.TICKET_EXPIRED: TicketExpired(connection_id="c"),
    EventType.LOGIN_SUCCEEDED: LoginSucceeded(
        connection_id="c", client_id="a", user_id="usr_1", created=False
    ),
    EventType.LOGIN_FAILED: LoginFailed(connection_id="c", client_id="a", reason="用户拒绝"),
    EventType.LOGIN_BINDING_REQUIRED: LoginBindingRequired(connection_id="c", client_id="a"),
}


def body_of(event: Event) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(encode(event))
    return body


def test_every_event_type_has_a_sample_payload_and_a_version() -> None:
    assert set(SAMPLES) == set(EventType) == set(PAYLOADS) == set(VERSIONS)


@pytest.mark.parametrize("etype", list(EventType))
def test_every_event_type_round_trips(etype: EventType) -> None:
    event = new_event("tkt-1", "trace-1", SAMPLES[etype], at=1_800_000_000.125)
    assert event.type == etype
    assert event.routing_key == etype.value
    assert event.version == VERSIONS[etype]
    decoded = decode(encode(event))
    assert decoded == event
    assert type(decoded.payload) is PAYLOADS[etype]


def test_encoded_event_is_compact_utf8_json_with_the_payload_fields() -> None:
    event = new_event("tkt-1", "trace-1", SAMPLES[EventType.LOGIN_FAILED], at=1.0)
    raw = encode(event)
    assert "用户拒绝".encode() in raw
    assert body_of(event) == {
        "id": event.id,
        "type": "login.failed",
        "version": 1,
        "time": 1.0,
        "ticket_id": "tkt-1",
        "trace_id": "trace-1",
        "payload": {"connection_id": "c", "client_id": "a", "reason": "用户拒绝"},
    }


def _cancelled_body(**changes: Any) -> bytes:
    body = body_of(new_event("t", "tr", TicketCancelled(connection_id="c")))
    body.update(changes)
    return json.dumps({k: v for k, v in body.items() if v is not _DROP}).encode()


_DROP = object()


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"{not json", id="bad-json"),
        pytest.param(b"\xff\xfe\x00", id="not-utf8"),
        pytest.param(b"[1, 2]", id="json-array"),
        pytest.param(b"null", id="json-null"),
        pytest.param(_cancelled_body(type="ticket.teleported"), id="unknown-type"),
        pytest.param(_cancelled_body(type=_DROP), id="missing-type"),
        pytest.param(_cancelled_body(id=_DROP), id="missing-id"),
        pytest.param(_cancelled_body(trace_id=_DROP), id="missing-trace-id"),
        pytest.param(_cancelled_body(payload=_DROP), id="missing-payload"),
        pytest.param(_cancelled_body(payload={}), id="missing-payload-field"),
        pytest.param(
            _cancelled_body(payload={"connection_id": "c", "session_key": "s"}),
            id="unknown-payload-field",
        ),
        pytest.param(_cancelled_body(payload={"connection_id": ["c"]}), id="wrong-type"),
        pytest.param(_cancelled_body(time="yesterday"), id="bad-time"),
        pytest.param(_cancelled_body(version=2), id="future-version"),
        pytest.param(_cancelled_body(version=0), id="version-zero"),
        pytest.param(_cancelled_body(version="one"), id="bad-version"),
    ],
)
def test_undecodable_bytes_raise_decode_error(raw: bytes) -> None:
    with pytest.raises(DecodeError):
        decode(raw)


def test_decode_error_is_a_value_error() -> None:
    assert issubclass(DecodeError, ValueError)


class TicketScannedV2(events._Payload):
    connection_id: str
    openid: str
    device: str


class TicketScannedV3(events._Payload):
    connection_id: str
    openid: str
    device: str
    launch_scene: int


@pytest.fixture
def scanned_v1() -> bytes:
    """A version-1 body, as a service not yet upgraded would have published it."""
    return encode(new_event("t", "tr", TicketScanned(connection_id="c", openid="o-1"), at=5.0))


def test_upcaster_is_applied_to_a_version_1_body_after_the_version_is_bumped(
    monkeypatch: pytest.MonkeyPatch, scanned_v1: bytes
) -> None:
    monkeypatch.setitem(events.VERSIONS, EventType.TICKET_SCANNED, 2)
    monkeypatch.setitem(events.PAYLOADS, EventType.TICKET_SCANNED, TicketScannedV2)
    monkeypatch.setitem(
        events.UPCASTERS, (EventType.TICKET_SCANNED, 1), lambda p: {**p, "device": "unknown"}
    )
    event = decode(scanned_v1)
    assert event.version == 2
    assert event.payload == TicketScannedV2(connection_id="c", openid="o-1", device="unknown")
    assert (event.ticket_id, event.trace_id, event.time) == ("t", "tr", 5.0)
    # A current-version body is not upcast again.
    assert decode(encode(event)) == event


def test_upcasters_chain_from_version_1_to_the_current_version(
    monkeypatch: pytest.MonkeyPatch, scanned_v1: bytes
) -> None:
    monkeypatch.setitem(events.VERSIONS, EventType.TICKET_SCANNED, 3)
    monkeypatch.setitem(events.PAYLOADS, EventType.TICKET_SCANNED, TicketScannedV3)
    monkeypatch.setitem(
        events.UPCASTERS, (EventType.TICKET_SCANNED, 1), lambda p: {**p, "device": "unknown"}
    )
    monkeypatch.setitem(
        events.UPCASTERS, (EventType.TICKET_SCANNED, 2), lambda p: {**p, "launch_scene": 0}
    )
    event = decode(scanned_v1)
    assert event.version == 3
    assert event.payload == TicketScannedV3(
        connection_id="c", openid="o-1", device="unknown", launch_scene=0
    )


def test_bumped_version_without_an_upcaster_refuses_old_bodies(
    monkeypatch: pytest.MonkeyPatch, scanned_v1: bytes
) -> None:
    monkeypatch.setitem(events.VERSIONS, EventType.TICKET_SCANNED, 2)
    monkeypatch.setitem(events.PAYLOADS, EventType.TICKET_SCANNED, TicketScannedV2)
    with pytest.raises(DecodeError):
        decode(scanned_v1)


def test_patched_catalogue_is_restored_between_tests() -> None:
    assert VERSIONS[EventType.TICKET_SCANNED] == 1
    assert PAYLOADS[EventType.TICKET_SCANNED] is TicketScanned
    assert (EventType.TICKET_SCANNED, 1) not in events.UPCASTERS
