"""``wxqr admin``: the dashboard's admin login."""

from __future__ import annotations

import sys

import typer

from wxqr.cli._ws import console, fail, open_workspace
from wxqr.service.admin import MIN_PASSWORD_LENGTH

__all__ = ["app"]

app = typer.Typer(help="The dashboard's admin login.", no_args_is_help=True)


@app.command("set-password")
def set_password_command(
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from standard input (scripts)."
    ),
) -> None:
    """Set the dashboard's admin password (stored as an scrypt hash; logs sessions out)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("New admin password", hide_input=True, confirmation_prompt=True)
    if len(password) < MIN_PASSWORD_LENGTH:
        fail(f"the password needs at least {MIN_PASSWORD_LENGTH} characters")
    with open_workspace() as ws:
        ws.admin.set_password(password)
    console.print("admin password set: log in at /dashboard/ (other sessions are logged out)")
