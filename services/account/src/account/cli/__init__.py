"""minilogin-admin: the operator's command line over the admin HTTP API.

    minilogin-admin [--url URL] [--token TOKEN] [--json] GROUP COMMAND ...

The deployment's public URL comes from --url or MINILOGIN_URL (default `make run`'s
http://127.0.0.1:8000), the admin token (the deployment's ML_ADMIN_TOKEN) from --token or
MINILOGIN_ADMIN_TOKEN. Exit codes: 0 done; 1 the API refused (or an import had failed
lines); 2 a usage error; 3 the deployment could not be reached.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence

from account.cli.client import DEFAULT_URL, AdminClient, CliError
from account.cli.commands import add_commands

PROG = "minilogin-admin"
URL_ENV = "MINILOGIN_URL"
TOKEN_ENV = "MINILOGIN_ADMIN_TOKEN"


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=PROG,
        description="Manage a MiniLogin deployment: connections, apps, users, the audit trail.",
        epilog=f"Environment: {URL_ENV} (the deployment's URL), {TOKEN_ENV} (its admin "
        "token). Exit codes: 0 done, 1 refused by the API or an import with failed lines, "
        "2 usage, 3 unreachable.",
    )
    p.add_argument(
        "--url",
        default=os.environ.get(URL_ENV) or DEFAULT_URL,
        help=f"the deployment's public URL (${URL_ENV}, default {DEFAULT_URL})",
    )
    p.add_argument(
        "--token",
        default=os.environ.get(TOKEN_ENV, ""),
        help=f"the admin token (${TOKEN_ENV}; prefer the variable: options show in ps)",
    )
    p.add_argument("--json", action="store_true", help="print JSON for scripts, not tables")
    p.add_argument("--timeout", type=float, default=30.0, help="seconds a request may take")
    add_commands(p.add_subparsers(dest="group", metavar="GROUP", required=True))
    return p


async def _run(args: argparse.Namespace) -> int:
    async with AdminClient(args.url, args.token, args.timeout) as client:
        code: int = await args.run(client, args, sys.stdout)
        return code


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return asyncio.run(_run(args))
    except CliError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130


def console() -> None:
    """The console script's entry point."""
    sys.exit(main())
