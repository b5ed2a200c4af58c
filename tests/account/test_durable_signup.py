"""An account MiniLogin has acknowledged outlives a crash of the MongoDB server: the person
who signed up just before a kill -9 logs in to the same account (the same `sub`) once the
server is back on its data, instead of getting a second one."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

from minilogin_testkit import free_port, server_process
from pymongo import AsyncMongoClient

from account.users import UserStore, WeChatIdentity
from bench.topology import secantus_command
from shared.mongo import open_mongo
from shared.registry import Connection

SHOP = Connection(id="shop", display_name="Shop")
ZHANG = WeChatIdentity("o-zhang", None, None, "Zhang", None)


async def _log_in(client: AsyncMongoClient[dict[str, Any]]) -> tuple[str, bool]:
    """Zhang logs in through the account service's code, with a cold cache."""
    store = UserStore(client["minilogin"])
    await store.ensure_indexes()
    result = await store.resolve(SHOP, ZHANG, 1_764_000_000.0)
    return result.user_id, result.created


async def _sub_after_a_kill(
    tmp_path: Path, open_client: Any, *, sync_on_commit: bool
) -> tuple[str, str, bool]:
    """Sign Zhang up, kill -9 the server the moment the write is acknowledged, start it again
    on the same data and log Zhang in: (first sub, second sub, whether that made a new one)."""
    port = free_port()
    data = str(tmp_path / "mongo")
    argv = secantus_command(port, data, sync_on_commit=sync_on_commit)
    url = f"mongodb://127.0.0.1:{port}/"
    with server_process(argv, port, "SecantusDB") as server:
        client = open_client(url)
        try:
            first, created = await _log_in(client)
            assert created
            server.send_signal(signal.SIGKILL)
            server.wait()
        finally:
            await client.close()
    with server_process(argv, port, "SecantusDB again"):
        client = open_client(url)
        try:
            again, created_again = await _log_in(client)
        finally:
            await client.close()
    return first, again, created_again


async def test_a_sign_up_acknowledged_just_before_a_kill_9_keeps_its_sub(tmp_path: Path) -> None:
    # The server as a deployment's mongod runs: no fsync per commit unless the write asks.
    first, again, created = await _sub_after_a_kill(tmp_path, open_mongo, sync_on_commit=False)
    assert (again, created) == (first, False)


async def test_the_wire_server_we_start_keeps_what_it_acknowledged_through_a_kill_9(
    tmp_path: Path,
) -> None:
    # A client that asks for nothing (a developer's script, a seeding tool), against
    # SecantusDB started as the tests, the benchmark topology and fault runs start it.
    def plain(url: str) -> AsyncMongoClient[dict[str, Any]]:
        return AsyncMongoClient(url)

    first, again, created = await _sub_after_a_kill(tmp_path, plain, sync_on_commit=True)
    assert (again, created) == (first, False)
