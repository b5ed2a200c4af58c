"""minilogin-admin's commands: connections, apps, users and the audit trail over the admin
API. Each command is one function from its parsed arguments to what it prints."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import quote

from account.cli.client import AdminClient, CliError
from account.cli.importing import import_users, read_lines
from account.cli.output import Progress, as_json, fields, table

CONNECTION_COLUMNS = (
    "id",
    "display_name",
    "login_mode",
    "association",
    "qr_kind",
    "private",
    "apps",
)
APP_COLUMNS = ("client_id", "name", "token_endpoint_auth_method", "redirect_uris")
USER_COLUMNS = ("id", "name", "email", "phone", "nickname", "disabled", "created_at")
IDENTITY_COLUMNS = ("connection_id", "openid", "unionid", "created_at", "last_login_at")
AUDIT_COLUMNS = (
    "at",
    "kind",
    "outcome",
    "reason",
    "connection_id",
    "client_id",
    "user_id",
    "pc_ip",
    "browser",
    "phone",
)
SEARCH_FIELDS = ("email", "phone", "openid", "unionid", "name")

Command = Callable[[AdminClient, argparse.Namespace, TextIO], Awaitable[int]]


class UsageError(CliError):
    exit_code = 2


def seg(value: str) -> str:
    """A path segment as given, never a way to another path."""
    return quote(value, safe="")


def assignments(items: list[str], body_file: str | None) -> dict[str, Any]:
    """The JSON object a create or update sends: `--body FILE` (or - for stdin), then each
    FIELD=text (a string) or FIELD:=json (a number, true/false, null, a list...)."""
    body: dict[str, Any] = {}
    if body_file is not None:
        try:
            raw = sys.stdin.read() if body_file == "-" else Path(body_file).read_text("utf-8")
            loaded = json.loads(raw)
        except OSError as exc:
            raise UsageError(f"cannot read {body_file}: {exc.strerror or exc}") from exc
        except ValueError as exc:
            raise UsageError(f"{body_file} is not JSON: {exc}") from exc
        if not isinstance(loaded, dict):
            raise UsageError(f"{body_file} must hold one JSON object")
        body.update(loaded)
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise UsageError(f"{item!r}: write FIELD=text or FIELD:=json")
        if name.endswith(":"):
            try:
                body[name[:-1]] = json.loads(value)
            except ValueError as exc:
                raise UsageError(f"{item!r}: the value after := is not JSON") from exc
        else:
            body[name] = value
    if not body:
        raise UsageError("nothing to send: give FIELD=value pairs or --body FILE")
    return body


async def _pages(
    client: AdminClient, path: str, key: str, params: dict[str, str], every: bool
) -> tuple[list[dict[str, Any]], str | None]:
    """A page, or with `every` all of them (following next_cursor to the end)."""
    rows: list[dict[str, Any]] = []
    while True:
        answer = await client.call("GET", path, params=params)
        rows.extend(answer[key])
        cursor = answer.get("next_cursor")
        if not every or not cursor:
            return rows, cursor
        params = {**params, "cursor": cursor}


def _listing(
    args: argparse.Namespace,
    out: TextIO,
    key: str,
    rows: list[dict[str, Any]],
    cursor: str | None,
    columns: tuple[str, ...],
) -> int:
    if args.json:
        as_json({key: rows, "next_cursor": cursor}, out)
    else:
        table(rows, columns, out)
    if cursor:
        print(f"more: add --cursor {cursor} (or --all)", file=sys.stderr)
    return 0


def _page_params(args: argparse.Namespace) -> dict[str, str]:
    params = {"limit": str(args.limit)}
    if args.cursor:
        params["cursor"] = args.cursor
    return params


def _one(args: argparse.Namespace, out: TextIO, obj: dict[str, Any]) -> int:
    if args.json:
        as_json(obj, out)
    else:
        fields(obj, out)
    return 0


def _done(args: argparse.Namespace, out: TextIO, what: str) -> int:
    if args.json:
        as_json({"ok": True, "done": what}, out)
    else:
        print(what, file=out)
    return 0


def _confirmed(args: argparse.Namespace, what: str) -> None:
    if not args.yes:
        raise UsageError(f"{what} cannot be undone: add --yes to go ahead")


async def _write(
    client: AdminClient, args: argparse.Namespace, out: TextIO, method: str, path: str
) -> int:
    """Send the command's FIELD assignments (or --body) to `path` and print what comes back."""
    body = assignments(args.fields, args.body)
    return _one(args, out, await client.call(method, path, body=body))


async def _delete(
    client: AdminClient, args: argparse.Namespace, out: TextIO, path: str, doing: str, done: str
) -> int:
    """DELETE `path` once --yes says `doing` may go ahead; then say `done`."""
    _confirmed(args, doing)
    await client.call("DELETE", path)
    return _done(args, out, done)


# -- connections ---------------------------------------------------------------------------


async def connections_list(client: AdminClient, args: argparse.Namespace, out: TextIO) -> int:
    rows = (await client.call("GET", "/admin/v1/connections"))["connections"]
    return _listing(args, out, "connections", rows, None, CONNECTION_COLUMNS)


async def connections_get(client: AdminClient, args: argparse.Namespace, out: TextIO) -> int:
    return _one(args, out, await client.call("GET", f"/admin/v1/connections/{seg(args.id)}"))


async def connections_create(client: AdminClient, args: argparse.Namespace, out: TextIO) -> int:
    return await _write(client, args, out, "POST", "/admin/v1/connections")


async def connections_update(client: AdminClient, args: argparse.Namespace, out: TextIO) -> int:
    return await _write(client, args, out, "PATCH", f"/admin/v1/connections/{seg(args.id)}")


async def connections_delete(client: AdminClient, args: argparse.Namespace, out: TextIO) -> int:
    path = f"/admin/v1/connections/{seg(args.id)}"
    what = f"connection {args.id}"
    return await _delete(client, args, out, path, f"deleting {what}", f"deleted {what}")


# -- apps ----------------------------------------------------------------------------------


async def apps_list(client: AdminClient, args: argparse.Namespace, out: TextIO) -> int:
    rows = (await client.call("GET", "/admin/v1/apps"))["apps"]
    return _listing(args, out, "apps", rows, None, APP_COLUMNS)


async def apps_get(client: AdminClient, args: argparse.Namespace, out: TextIO) -> int:
    return _one(args, out, await client.call("GET", f"/admin/v1/apps/{seg(args.client_id)}"))


def _secret_note(args: argparse.Namespace, answer: dict[str, Any]) -> None:
    if answer.get("client_secret") and not args.json:
        print("the client secret is shown this once: keep it now", file=sys.stderr)


async def apps_create(client: AdminClient, args: argparse.Namespace, out: TextIO) -> int:
    body = assignments(args.fields, args.body)
    answer = await client.call("POST", "/admin/v1/apps", body=body)
    _secret_note(args, answer)
    return _one(args, out, answer)


async def apps_update(client: AdminClient, args: argparse.Namespace, out: TextIO) -> int:
    return await _write(client, args, out, "PATCH", f"/admin/v1/apps/{seg(args.client_id)}")


async def apps_rotate_secret(client: AdminClient, args: argparse.Namespace, out: TextIO) -> int:
    path = f"/admin/v1/apps/{seg(args.client_id)}/secret"
    answer = await client.call("POST", path)
    _secret_note(args, answer)
    return _one(args, out, answer)


async def apps_delete(client: AdminClient, args: argparse.Namespace, out: TextIO) -> int:
    path = f"/admin/v1/apps/{seg(args.client_id)}"
    what = f"app {args.client_id}"
    return await _delete(client, args, out, path, f"deleting {what}", f"deleted {what}")


# -- users ---------------------------------------------------------------------------------


async def users_list(client: AdminClient, args: argparse.Namespace, out: TextIO) -> int:
    params = _page_params(args)
    for name in SEARCH_FIELDS:
        if (value := getattr(args, name, None)) is not None:
            params[name] = value
    if args.command == "search" and not params.keys() & set(SEARCH_FIELDS):
        raise UsageError(f"search by at least one of --{', --'.join(SEARCH_FIELDS)}")
    rows, cursor = await _pages(client, "/admin/v1/users", "users", params, args.all)
    return _listing(args, out, "users", rows, cursor, USER_COLUMNS)


async def users_get(client: AdminClient, args: argparse.Namespace, out: TextIO) -> int:
    user = await client.call("GET", f"/admin/v1/users/{seg(args.user_id)}")
    _one(args, out, user)
    if not args.json:
        print("\nidentities:", file=out)
        table(user.get("identities", []), IDENTITY_COLUMNS, out)
    return 0


async def users_create(client: AdminClient, args: argparse.Namespace, out: TextIO) -> int:
    return await _write(client, args, out, "POST", "/admin/v1/users")


async def users_update(client: AdminClient, args: argparse.Namespace, out: TextIO) -> int:
    return await _write(client, args, out, "PATCH", f"/admin/v1/users/{seg(args.user_id)}")


async def users_disable(client: AdminClient, args: argparse.Namespace, out: TextIO) -> int:
    path = f"/admin/v1/users/{seg(args.user_id)}/disable"
    return _one(args, out, await client.call("POST", path))


async def users_enable(client: AdminClient, args: argparse.Namespace, out: TextIO) -> int:
    path = f"/admin/v1/users/{seg(args.user_id)}/enable"
    return _one(args, out, await client.call("POST", path))


async def users_delete(client: AdminClient, args: argparse.Namespace, out: TextIO) -> int:
    path = f"/admin/v1/users/{seg(args.user_id)}"
    doing = f"erasing user {args.user_id} and every identity of theirs"
    return await _delete(client, args, out, path, doing, f"erased user {args.user_id}")


async def users_unlink(client: AdminClient, args: argparse.Namespace, out: TextIO) -> int:
    path = (
        f"/admin/v1/users/{seg(args.user_id)}/identities/"
        f"{seg(args.connection_id)}/{seg(args.openid)}"
    )
    await client.call("DELETE", path)
    return _done(args, out, f"unlinked {args.connection_id}/{args.openid} from {args.user_id}")


async def users_import(client: AdminClient, args: argparse.Namespace, out: TextIO) -> int:
    lines = read_lines(args.file)
    progress = Progress(len(lines), "lines")
    totals = await import_users(client, lines, progress, args.slice)
    if args.json:
        as_json(totals.out(), out)
    else:
        print(
            f"imported {totals.imported}, skipped {totals.skipped}, failed {totals.failed} "
            f"(of {totals.lines} lines)",
            file=out,
        )
        for skip in totals.skipped_lines:
            print(f"line {skip['line']}: skipped, its {skip['field']} is taken", file=out)
        for err in sorted(totals.errors, key=lambda e: int(e["line"])):
            print(f"line {err['line']}: {err['code']}: {err['message']}", file=out)
    return 1 if totals.failed else 0


# -- audit ---------------------------------------------------------------------------------


async def audit_list(client: AdminClient, args: argparse.Namespace, out: TextIO) -> int:
    params = _page_params(args)
    for option, name in (
        ("user", "user_id"),
        ("connection", "connection_id"),
        ("app", "client_id"),
        ("outcome", "outcome"),
        ("kind", "kind"),
        ("since", "since"),
        ("until", "until"),
    ):
        if (value := getattr(args, option)) is not None:
            params[name] = value
    rows, cursor = await _pages(client, "/admin/v1/audit", "records", params, args.all)
    return _listing(args, out, "records", rows, cursor, AUDIT_COLUMNS)


# -- the parser ----------------------------------------------------------------------------


def _writes(p: argparse.ArgumentParser) -> None:
    p.add_argument("fields", nargs="*", metavar="FIELD=text|FIELD:=json", help="fields to send")
    p.add_argument("--body", metavar="FILE", help="a JSON object to send (- reads stdin)")


def _paged(p: argparse.ArgumentParser) -> None:
    p.add_argument("--limit", type=int, default=50, help="rows a page (1-200, default 50)")
    p.add_argument("--cursor", help="the page after this cursor (as a listing printed it)")
    p.add_argument("--all", action="store_true", help="every page, not only the first")


def _yes(p: argparse.ArgumentParser) -> None:
    p.add_argument("--yes", action="store_true", help="yes, this cannot be undone")


def _anywhere() -> argparse.ArgumentParser:
    """--json after the command as well as before it (SUPPRESS: not given here, the top
    level's value stands)."""
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="print JSON")
    return p


def add_commands(top: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    common = _anywhere()

    def group(name: str, text: str) -> argparse._SubParsersAction[argparse.ArgumentParser]:
        p = top.add_parser(name, help=text, description=text)
        return p.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def cmd(
        sub: argparse._SubParsersAction[argparse.ArgumentParser],
        name: str,
        run: Command,
        text: str,
        *args: str,
    ) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=text, description=text, parents=[common])
        for arg in args:
            p.add_argument(arg)
        p.set_defaults(run=run)
        return p

    c = group("connections", "connections (the seed's configuration table)")
    cmd(c, "list", connections_list, "list every connection")
    cmd(c, "get", connections_get, "show one connection", "id")
    _writes(cmd(c, "create", connections_create, "create a connection (id=..., display_name=...)"))
    _writes(cmd(c, "update", connections_update, "change fields of a connection", "id"))
    _yes(cmd(c, "delete", connections_delete, "delete a connection", "id"))

    a = group("apps", "apps (relying parties: client ids, redirect URIs)")
    cmd(a, "list", apps_list, "list every app")
    cmd(a, "get", apps_get, "show one app", "client_id")
    _writes(cmd(a, "create", apps_create, "create an app (name=..., redirect_uris:=[...])"))
    _writes(cmd(a, "update", apps_update, "change fields of an app", "client_id"))
    cmd(a, "rotate-secret", apps_rotate_secret, "issue a new client secret", "client_id")
    _yes(cmd(a, "delete", apps_delete, "delete an app", "client_id"))

    u = group("users", "users (accounts) and their WeChat identities")
    _paged(cmd(u, "list", users_list, "list users, a page at a time"))
    search = cmd(u, "search", users_list, "find users by email, phone, openid, unionid or name")
    for name in SEARCH_FIELDS:
        search.add_argument(f"--{name}")
    _paged(search)
    cmd(u, "get", users_get, "show a user and their identities", "user_id")
    _writes(cmd(u, "create", users_create, "create a local account (email=..., password=...)"))
    imp = cmd(
        u, "import", users_import, "import users from a JSON-lines file (- for stdin)", "file"
    )
    imp.add_argument("--slice", type=int, default=200, help="lines a request (default 200)")
    _writes(cmd(u, "update", users_update, "change fields of a user", "user_id"))
    cmd(u, "disable", users_disable, "refuse the user's logins", "user_id")
    cmd(u, "enable", users_enable, "let a disabled user log in again", "user_id")
    _yes(cmd(u, "delete", users_delete, "erase a user and their identities", "user_id"))
    cmd(
        u,
        "unlink",
        users_unlink,
        "unbind one WeChat identity from a user",
        "user_id",
        "connection_id",
        "openid",
    )

    t = group("audit", "the audit trail of login attempts")
    lst = cmd(t, "list", audit_list, "read records, newest first")
    lst.add_argument("--user", help="a user id")
    lst.add_argument("--connection", help="a connection id")
    lst.add_argument("--app", help="an app's client_id")
    lst.add_argument(
        "--outcome", choices=["succeeded", "failed", "binding_required", "cancelled", "expired"]
    )
    lst.add_argument("--kind", choices=["login", "binding", "unionid_conflict", "sign_in"])
    lst.add_argument("--since", metavar="TIME", help="at or after (RFC 3339; UTC if no offset)")
    lst.add_argument("--until", metavar="TIME", help="before (RFC 3339; UTC if no offset)")
    _paged(lst)
