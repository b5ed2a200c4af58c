"""MiniLogin reaches Redis through a Sentinel-watched primary as well as directly."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from minilogin_testkit import free_port, server_process

from shared.clock import FakeClock
from shared.keys import Keys
from shared.redis import _hosts, _Sentinels, close_redis, open_redis
from shared.tickets import Ticket, TicketStatus, TicketStore


def test_host_lists_parse_with_default_ports() -> None:
    assert _hosts("a:1,b,c:3", 26379) == [("a", 1), ("b", 26379), ("c", 3)]
    assert _hosts(":secret@h1:7000", 6379) == [("h1", 7000)]


@pytest.fixture
def sentinel_url(tmp_path: Path) -> Iterator[str]:
    """A real Sentinel watching the test Redis on 127.0.0.1:6379."""
    server = shutil.which("redis-server")
    if server is None:
        pytest.fail("redis-server is needed to run a Sentinel")
    port = free_port()
    conf = tmp_path / "sentinel.conf"
    conf.write_text(
        f"port {port}\nbind 127.0.0.1\ndir {tmp_path}\n"
        "sentinel monitor mlprimary 127.0.0.1 6379 1\n"
    )
    with server_process([server, str(conf), "--sentinel"], port, "redis sentinel"):
        yield f"redis+sentinel://127.0.0.1:{port}/mlprimary/0"


@pytest.mark.real
async def test_ticket_state_machine_works_through_a_sentinel_url(sentinel_url: str) -> None:
    redis = open_redis(sentinel_url)
    keys = Keys(f"mlsentinel{uuid.uuid4().hex[:8]}")
    clock = FakeClock()
    store = TicketStore(redis, keys, clock)
    ticket = Ticket(
        id="S" * 22,
        status=TicketStatus.PENDING,
        version=1,
        connection_id="c",
        client_id="a",
        redirect_uri="https://x/cb",
        state="",
        code_challenge="c" * 43,
        nonce="",
        binding_hash="h",
        created_at=clock.now(),
        expires_at=clock.now() + 60,
        trace_id="t",
    )
    try:
        await store.create(ticket, retention=60)
        scanned = await store.transition(
            ticket.id, TicketStatus.SCANNED, changes={"scanner_openid": "o1"}
        )
        assert (scanned.status, scanned.version) == (TicketStatus.SCANNED, 2)
        assert 0 < await redis.pttl(keys.ticket(ticket.id)) <= 120_000
    finally:
        await redis.delete(keys.ticket(ticket.id))
        # The services' close: with ResourceWarnings as errors, a Sentinel client it left
        # open fails this test.
        await close_redis(redis)


def test_commands_packed_in_c_match_redis_py_byte_for_byte() -> None:
    from redis.asyncio.connection import Connection

    from shared.redis import HiredisPackingConnection

    ours, theirs = HiredisPackingConnection(), Connection()
    for args in (
        ("SET", "ml:k", "é-value", "EX", 60),
        ("EVALSHA", "ab" * 20, 1, "ml:ticket:x", 1764000000.25, "", b"raw\x00bytes"),
        ("SCRIPT LOAD", "return 1"),
    ):
        assert b"".join(ours.pack_command(*args)) == b"".join(theirs.pack_command(*args))


@pytest.mark.parametrize(
    ("flags", "dialled"),
    [
        ("master", True),
        # Paused, or too busy to answer a ping in time: dialled, and used once it answers.
        ("master,s_down", True),
        ("master,s_down,o_down", True),
        # Being replaced: no primary until the failover is over.
        ("master,s_down,o_down,failover_in_progress", False),
        ("slave", False),
    ],
)
def test_a_primary_the_sentinels_flag_down_is_still_dialled_unless_it_is_being_replaced(
    flags: str, dialled: bool
) -> None:
    sentinels = _Sentinels([("127.0.0.1", 1)])  # type: ignore[no-untyped-call]
    state = {
        "flags": flags,
        "is_master": "master" in flags.split(","),
        "is_sdown": "s_down" in flags,
        "is_odown": "o_down" in flags,
        "num-other-sentinels": 2,
    }
    assert sentinels.check_master_state(state, "mymaster") is dialled
