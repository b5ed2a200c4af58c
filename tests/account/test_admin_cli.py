"""minilogin-admin as an operator runs it: the installed console script, a separate process,
against a running embedded stack. Tables by default, JSON with --json, a bulk import with a
progress bar and a summary naming each bad line, and failures that are one clear line and a
non-zero exit code, never a traceback."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from minilogin_testkit import Stack, start_stack

from devstack.seed import DEMO_CLIENT_ID, DEMO_CONNECTION
from shared.clock import SystemClock
from shared.settings import DEV_ADMIN_TOKEN

CLI = Path(sys.executable).parent / "minilogin-admin"


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


@pytest.fixture
async def embedded(mongo_url: str, namespace: str) -> AsyncIterator[Stack]:
    async with start_stack("embedded", mongo_url, namespace, SystemClock()) as s:
        yield s


async def cli(stack: Stack, *args: str, token: str = DEV_ADMIN_TOKEN, url: str = "") -> Run:
    env = {
        **os.environ,
        "MINILOGIN_URL": url or stack.public,
        "MINILOGIN_ADMIN_TOKEN": token,
        "COLUMNS": "200",
    }
    proc = await asyncio.create_subprocess_exec(
        str(CLI),
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode is not None
    run = Run(proc.returncode, out.decode(), err.decode())
    assert "Traceback" not in run.err, run.err
    return run


def rows(table: str) -> list[list[str]]:
    return [line.split() for line in table.splitlines() if line.strip()]


def test_the_console_script_is_installed() -> None:
    assert CLI.is_file()
    assert os.access(CLI, os.X_OK)


async def test_connections_and_apps_as_tables_and_as_json(embedded: Stack) -> None:
    listed = await cli(embedded, "connections", "list")
    assert listed.code == 0, listed.err
    head, *body = rows(listed.out)
    assert head[:3] == ["ID", "DISPLAY_NAME", "LOGIN_MODE"]
    assert DEMO_CONNECTION in [r[0] for r in body]

    as_json = await cli(embedded, "--json", "connections", "list")
    assert DEMO_CONNECTION in [c["id"] for c in as_json.json()["connections"]]

    created = await cli(
        embedded,
        "--json",
        "connections",
        "create",
        "id=members-only",
        "display_name=会员专区",
        "login_mode=login_only",
        f"apps:=[{json.dumps(DEMO_CLIENT_ID)}]",
    )
    assert created.code == 0, created.err
    assert created.json()["login_mode"] == "login_only"
    shown = await cli(embedded, "connections", "get", "members-only")
    assert "会员专区" in shown.out
    assert any(r[:2] == ["login_mode", "login_only"] for r in rows(shown.out))

    app = await cli(
        embedded,
        "apps",
        "create",
        "name=Shop",
        'redirect_uris:=["https://shop.example/cb"]',
    )
    assert app.code == 0, app.err
    assert "shown this once" in app.err
    fields = dict(r[:2] for r in rows(app.out) if len(r) >= 2)
    assert len(fields["client_secret"]) >= 40
    apps = (await cli(embedded, "--json", "apps", "list")).json()["apps"]
    assert fields["client_id"] in [a["client_id"] for a in apps]
    assert fields["client_secret"] not in json.dumps(apps)  # shown once only


async def test_users_from_creation_to_erasure(embedded: Stack) -> None:
    made = await cli(
        embedded,
        "--json",
        "users",
        "create",
        "email=li.lei@example.com",
        "name=Li Lei",
        "password=correct horse battery",
    )
    assert made.code == 0, made.err
    user_id = made.json()["id"]

    found = await cli(embedded, "users", "search", "--email", "li.lei@example.com")
    head, *body = rows(found.out)
    assert head[0] == "ID"
    assert [r[0] for r in body] == [user_id]
    shown = await cli(embedded, "users", "get", user_id)
    assert "identities:" in shown.out
    assert "correct horse" not in shown.out

    assert (await cli(embedded, "--json", "users", "disable", user_id)).json()["disabled"]
    assert not (await cli(embedded, "--json", "users", "enable", user_id)).json()["disabled"]
    renamed = await cli(embedded, "--json", "users", "update", user_id, "name=Han Meimei")
    assert renamed.json()["name"] == "Han Meimei"

    refused = await cli(embedded, "users", "delete", user_id)
    assert refused.code == 2
    assert "--yes" in refused.err
    erased = await cli(embedded, "users", "delete", user_id, "--yes")
    assert erased.code == 0, erased.err
    gone = await cli(embedded, "users", "get", user_id)
    assert gone.code == 1
    assert "user_not_found (HTTP 404)" in gone.err


async def test_import_shows_progress_and_names_each_bad_line(
    embedded: Stack, tmp_path: Path
) -> None:
    taken = await cli(embedded, "users", "create", "email=taken@example.com")
    assert taken.code == 0, taken.err
    lines = [
        {"email": "one@example.com", "name": "One"},
        "{not json",
        {"email": "taken@example.com"},
        {"phone": "+8613800009999"},
        {"email": "two@example.com", "colour": "blue"},
        {"email": "three@example.com"},
    ]
    path = tmp_path / "users.jsonl"
    path.write_text(
        "\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n",
        encoding="utf-8",
    )

    # Two lines a request: line numbers are the file's, across requests.
    run = await cli(embedded, "users", "import", str(path), "--slice", "2")

    assert run.code == 1  # some lines failed
    assert "6/6 lines" in run.err
    assert "] 2/6 lines" in run.err  # a step a request
    assert "[" + "#" * 30 + "]" in run.err
    assert "imported 3, skipped 1, failed 2 (of 6 lines)" in run.out
    assert "line 3: skipped, its email is taken" in run.out
    assert "line 2: malformed_json" in run.out
    assert "line 5: invalid_request" in run.out
    for email in ("one@example.com", "three@example.com"):
        found = await cli(embedded, "--json", "users", "search", "--email", email)
        assert len(found.json()["users"]) == 1, email
    again = await cli(embedded, "--json", "users", "search", "--email", "two@example.com")
    assert again.json()["users"] == []  # the bad line wrote nothing

    # The same file again: everything already there is skipped, nothing doubles.
    rerun = await cli(embedded, "--json", "users", "import", str(path))
    summary = rerun.json()
    assert (summary["imported"], summary["skipped"], summary["failed"]) == (0, 4, 2)
    assert [e["line"] for e in summary["errors"]] == [2, 5]


async def test_audit_records_as_a_table_and_as_json(embedded: Stack) -> None:
    alice = (await embedded.users())[0]
    await embedded.log_in(alice["openid"])

    table = await cli(embedded, "audit", "list", "--outcome", "succeeded")
    assert table.code == 0, table.err
    head, *body = rows(table.out)
    assert head[:3] == ["AT", "KIND", "OUTCOME"]
    assert [r[1:3] for r in body] == [["login", "succeeded"]]

    records = (await cli(embedded, "--json", "audit", "list", "--all")).json()["records"]
    assert [(r["outcome"], r["openid"]) for r in records] == [("succeeded", alice["openid"])]
    # --json after the command too, as people type it.
    none = await cli(embedded, "audit", "list", "--outcome", "failed", "--json")
    assert none.json() == {"records": [], "next_cursor": None}


async def test_audit_pages_follow_the_cursor(embedded: Stack) -> None:
    for user in (await embedded.users())[:3]:
        await embedded.log_in(user["openid"])
    first = await cli(embedded, "--json", "audit", "list", "--limit", "2")
    page = first.json()
    assert len(page["records"]) == 2
    assert "--cursor" in first.err
    rest = await cli(embedded, "--json", "audit", "list", "--cursor", page["next_cursor"])
    every = await cli(embedded, "--json", "audit", "list", "--limit", "1", "--all")
    assert every.json()["records"] == page["records"] + rest.json()["records"]
    assert len(every.json()["records"]) == 3


@pytest.mark.parametrize(
    ("args", "token", "code", "message"),
    [
        (("connections", "list"), "wrong-token", 1, "forbidden (HTTP 403)"),
        (("connections", "list"), "", 1, "no admin token"),
        (("connections", "get", "no-such"), DEV_ADMIN_TOKEN, 1, "(HTTP 404)"),
        (("audit", "list", "--since", "yesterday"), DEV_ADMIN_TOKEN, 1, "invalid_request"),
        (("users", "create"), DEV_ADMIN_TOKEN, 2, "nothing to send"),
        (("users", "create", "emailonly"), DEV_ADMIN_TOKEN, 2, "FIELD=text"),
        (("users", "import", "/no/such/file.jsonl"), DEV_ADMIN_TOKEN, 1, "cannot read"),
        (("users", "frobnicate"), DEV_ADMIN_TOKEN, 2, "invalid choice"),
    ],
)
async def test_failures_are_one_clear_line_and_an_exit_code(
    embedded: Stack, args: tuple[str, ...], token: str, code: int, message: str
) -> None:
    run = await cli(embedded, *args, token=token)
    assert run.code == code, (run.out, run.err)
    assert message in run.err
    assert run.out == ""


async def test_an_unreachable_deployment_is_exit_code_3(embedded: Stack) -> None:
    # Port 1 on loopback (tcpmux) is served by nothing on a development machine.
    run = await cli(embedded, "connections", "list", url="http://127.0.0.1:1")
    assert run.code == 3
    assert "cannot reach http://127.0.0.1:1" in run.err


async def test_unlink_update_rotate_and_delete(embedded: Stack) -> None:
    alice = (await embedded.users())[0]
    await embedded.log_in(alice["openid"])
    record = (await cli(embedded, "--json", "audit", "list")).json()["records"][0]
    user_id = record["user_id"]
    shown = await cli(embedded, "users", "get", user_id)
    assert alice["openid"] in shown.out  # the identities table

    unlinked = await cli(embedded, "users", "unlink", user_id, DEMO_CONNECTION, alice["openid"])
    assert unlinked.code == 0, unlinked.err
    assert (await cli(embedded, "--json", "users", "get", user_id)).json()["identities"] == []
    again = await cli(embedded, "users", "unlink", user_id, DEMO_CONNECTION, alice["openid"])
    assert again.code == 1
    assert "identity_not_found" in again.err

    await cli(embedded, "connections", "create", "id=spare", "display_name=Spare")
    updated = await cli(embedded, "--json", "connections", "update", "spare", "ticket_ttl:=90")
    assert updated.json()["ticket_ttl"] == 90
    assert (await cli(embedded, "connections", "delete", "spare", "--yes")).code == 0
    assert (await cli(embedded, "connections", "get", "spare")).code == 1

    made = await cli(
        embedded, "--json", "apps", "create", "name=Tmp", 'redirect_uris:=["https://t.example/cb"]'
    )
    client_id, secret = made.json()["client_id"], made.json()["client_secret"]
    rotated = (await cli(embedded, "--json", "apps", "rotate-secret", client_id)).json()
    assert rotated["client_secret"] != secret
    assert (await cli(embedded, "apps", "delete", client_id)).code == 2  # no --yes
    assert (await cli(embedded, "apps", "delete", client_id, "--yes")).code == 0
    gone = await cli(embedded, "apps", "get", client_id)
    assert gone.code == 1
    assert "not_found (HTTP 404)" in gone.err
