"""``wxqr admin``: the password of the dashboard's user ``admin``.

Kept from the days of one admin password: ``wxqr admin set-password`` is
``wxqr user set-password admin`` that also makes the user (as an admin) if missing.
The team is managed with ``wxqr user`` (:mod:`wxqr.cli.user`).
"""

from __future__ import annotations

import sys

import typer

from wxqr.cli._ws import console, fail, open_workspace
from wxqr.service.passwords import MIN_PASSWORD_LENGTH

__all__ = ["app"]

app = typer.Typer(help="The dashboard's admin login.", no_args_is_help=True)


@app.command("set-password")
def set_password_command(
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from standard input (scripts)."
    ),
) -> None:
    """Set the password of the dashboard user ``admin`` (made if missing; logs its
    sessions out). The team: ``wxqr user``."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("New admin password", hide_input=True, confirmation_prompt=True)
    if len(password) < MIN_PASSWORD_LENGTH:
        fail(f"the password needs at least {MIN_PASSWORD_LENGTH} characters")
    with open_workspace() as ws:
        ws.admin.set_password(password)
    console.print("admin password set: log in at /dashboard/ (other sessions are logged out)")
