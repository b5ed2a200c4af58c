"""The wire format, pinned: one golden file of exact encoded bytes per event type and version.

Each file `golden/events/<type>.v<version>.json` holds what `encode` makes of the fixed
event below, byte for byte, so any change to what goes on the bus shows up as a diff in
review. Files of older versions stay after a bump: they are what services not yet upgraded
still publish, and they must keep decoding (through the upcasters).

A deliberate change to the wire format rewrites the current versions' files:

    ML_REGEN_GOLDEN=1 .venv/bin/python -m pytest tests/shared/test_events_golden.py

then review the diff. Without that variable the test never writes.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import pytest

from shared.events import (
    PAYLOADS,
    VERSIONS,
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
    _Payload,
    decode,
    encode,
)

GOLDEN = Path(__file__).parent / "golden" / "events"
REGENERATE = os.environ.get("ML_REGEN_GOLDEN") == "1"

# One representative payload per (type, version) on the bus today: optional fields set to
# something other than their defaults, and non-ASCII text, so every field shows in the file.
# Bumping a version means adding the new version's sample here (the old file stays).
SAMPLES: dict[tuple[EventType, int], _Payload] = {
    (EventType.TICKET_ISSUED, 1): TicketIssued(
        connection_id="conn-1", client_id="demo-site", expires_at=1_800_000_120.5
    ),
    (EventType.TICKET_SCANNED, 1): TicketScanned(connection_id="conn-1", openid="o-openid-1"),
    (EventType.TICKET_SCANNER_IDENTIFIED, 1): TicketScannerIdentified(
        connection_id="conn-1", user_id="usr_1"
    ),
    (EventType.TICKET_CONFIRMED, 1): TicketConfirmed(
        connection_id="conn-1",
        client_id="demo-site",
        openid="o-openid-1",
        unionid="u-unionid-1",
        has_phone=True,
    ),
    (EventType.TICKET_CANCELLED, 1): TicketCancelled(connection_id="conn-1"),
    (EventType.TICKET_EXPIRED, 1): TicketExpired(connection_id="conn-1"),
    (EventType.LOGIN_SUCCEEDED, 1): LoginSucceeded(
        connection_id="conn-1", client_id="demo-site", user_id="usr_1", created=True
    ),
    (EventType.LOGIN_FAILED, 1): LoginFailed(
        connection_id="conn-1", client_id="demo-site", reason="用户拒绝"
    ),
    (EventType.LOGIN_BINDING_REQUIRED, 1): LoginBindingRequired(
        connection_id="conn-1", client_id="demo-site"
    ),
}

CURRENT = [(etype, VERSIONS[etype]) for etype in EventType]


def golden_path(etype: EventType, version: int) -> Path:
    return GOLDEN / f"{etype.value}.v{version}.json"


def fixed_event(etype: EventType, version: int) -> Event:
    """The event each golden file holds: everything but the payload is the same constant."""
    return Event(
        id="0123456789abcdef0123456789abcdef",
        type=etype,
        version=version,
        time=1_800_000_000.125,
        ticket_id="Tkt0123456789abcdefGHI",
        trace_id="fedcba9876543210fedcba9876543210",
        payload=SAMPLES[(etype, version)],
    )


def _id(key: tuple[EventType, int]) -> str:
    return f"{key[0].value}.v{key[1]}"


@pytest.mark.parametrize("key", CURRENT, ids=_id)
def test_encoding_the_fixed_event_gives_the_golden_bytes(key: tuple[EventType, int]) -> None:
    # First in the module, so a regeneration has written the files the tests below read.
    raw = encode(fixed_event(*key))
    path = golden_path(*key)
    if REGENERATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(raw)
    assert path.is_file(), f"{path.name} is missing"
    assert path.read_bytes() == raw, f"the wire format of {path.name} changed"


@pytest.mark.parametrize("key", CURRENT, ids=_id)
def test_the_golden_bytes_decode_to_the_fixed_event(key: tuple[EventType, int]) -> None:
    path = golden_path(*key)
    assert path.is_file(), f"{path.name} is missing"
    decoded = decode(path.read_bytes())
    assert decoded == fixed_event(*key)
    assert type(decoded.payload) is PAYLOADS[key[0]]


def test_every_current_type_and_version_has_a_sample_of_its_payload_class() -> None:
    for etype, version in CURRENT:
        assert (etype, version) in SAMPLES, f"add a sample for {etype} version {version}"
        assert type(SAMPLES[(etype, version)]) is PAYLOADS[etype]


def expected_files(versions: Mapping[EventType, int]) -> set[str]:
    """Every version from 1 to the current one may still be in flight during a rollout."""
    return {
        golden_path(etype, version).name
        for etype in EventType
        for version in range(1, versions[etype] + 1)
    }


def present_files() -> set[str]:
    return {p.name for p in GOLDEN.glob("*.json")}


def test_every_type_and_version_on_the_bus_has_a_golden_file_and_nothing_else_does() -> None:
    expected, present = expected_files(VERSIONS), present_files()
    missing = sorted(expected - present)
    assert not missing, f"no golden file for {missing}; ML_REGEN_GOLDEN=1 writes them"
    stray = sorted(present - expected)
    assert not stray, f"golden files for no event type or version on the bus: {stray}"


def test_a_bumped_version_is_missing_its_golden_file_until_one_is_written() -> None:
    bumped = {**VERSIONS, EventType.TICKET_SCANNED: VERSIONS[EventType.TICKET_SCANNED] + 1}
    missing = expected_files(bumped) - present_files()
    assert missing == {golden_path(EventType.TICKET_SCANNED, bumped[EventType.TICKET_SCANNED]).name}


def test_every_golden_file_decodes_to_the_current_version_of_its_type() -> None:
    # Older versions' files are what a service not yet upgraded publishes: they are upcast.
    paths = sorted(GOLDEN.glob("*.json"))
    assert len(paths) >= len(EventType)
    for path in paths:
        etype = EventType(path.name.rsplit(".v", 1)[0])
        decoded = decode(path.read_bytes())
        assert (decoded.type, decoded.version) == (etype, VERSIONS[etype]), path.name
        assert type(decoded.payload) is PAYLOADS[etype], path.name
