"""python -m account.cli: the same as minilogin-admin."""

from account.cli import console

console()
