"""``wxqr user``: the dashboard's team (users with a role, limited to some accounts).

``wxqr admin set-password`` is kept: it sets the password of the user ``admin``.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.table import Table

from wxqr.cli._ws import FORMAT_OPTION, OutputFormat, console, emit_json, fail, open_workspace
from wxqr.service.dashboard_users import DashboardUser, Role
from wxqr.service.passwords import MIN_PASSWORD_LENGTH

__all__ = ["app"]

app = typer.Typer(help="Users of the dashboard and their roles.", no_args_is_help=True)

ROLE_HELP = "admin (everything), editor (channels, codes, replies) or viewer (read-only)."
ACCOUNTS_OPTION = typer.Option(
    "--account",
    "-a",
    help="An appid the user may see; repeat for several (default: every account).",
)
PASSWORD_STDIN = typer.Option(
    False, "--password-stdin", help="Read the password from standard input (scripts)."
)


def _user_dict(user: DashboardUser) -> dict[str, object]:
    return {
        "name": user.name,
        "role": user.role.value,
        "accounts": None if user.appids is None else sorted(user.appids),
        "language": user.language,
        "created_at": user.created_at,
        "last_login_at": user.last_login_at,
    }


def _read_password(from_stdin: bool) -> str:
    """The new password: from standard input, else asked twice, never echoed."""
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    if len(password) < MIN_PASSWORD_LENGTH:
        fail(f"the password needs at least {MIN_PASSWORD_LENGTH} characters")
    return password


def _role(text: str) -> Role:
    try:
        return Role(text.strip().lower())
    except ValueError:
        fail("a role is admin, editor or viewer")


@app.command("add")
def add_command(
    name: str = typer.Argument(..., help="The user name (letters, digits, . _ @ + -)."),
    role: str = typer.Option("viewer", "--role", "-r", help=ROLE_HELP),
    account: Annotated[list[str] | None, ACCOUNTS_OPTION] = None,
    password_stdin: bool = PASSWORD_STDIN,
    output: OutputFormat = FORMAT_OPTION,
) -> None:
    """Add a user; the password is asked for (or read with --password-stdin)."""
    chosen = _role(role)
    password = _read_password(password_stdin)
    with open_workspace() as ws:
        user = ws.dashboard_users.add(name, password, role=chosen, accounts=account)
    if output is OutputFormat.JSON:
        emit_json(_user_dict(user))
        return
    console.print(
        f"user [bold]{user.name}[/] added: {user.role.value}, accounts: {user.describe_accounts()}"
    )


@app.command("list")
def list_command(output: OutputFormat = FORMAT_OPTION) -> None:
    """List the users (never their passwords)."""
    with open_workspace() as ws:
        users = ws.dashboard_users.list_users()
    if output is OutputFormat.JSON:
        emit_json([_user_dict(u) for u in users])
        return
    table = Table("name", "role", "accounts", "created", "last login")
    for u in users:
        table.add_row(
            u.name,
            u.role.value,
            u.describe_accounts(),
            str(u.created_at),
            str(u.last_login_at or "—"),
        )
    console.print(table)


@app.command("set-role")
def set_role_command(
    name: str = typer.Argument(..., help="The user name."),
    role: str = typer.Argument(..., help=ROLE_HELP),
    account: Annotated[list[str] | None, ACCOUNTS_OPTION] = None,
    output: OutputFormat = FORMAT_OPTION,
) -> None:
    """Change a user's role and accounts (the last admin stays an admin)."""
    chosen = _role(role)
    with open_workspace() as ws:
        user = ws.dashboard_users.set_role(name, chosen, accounts=account)
    if output is OutputFormat.JSON:
        emit_json(_user_dict(user))
        return
    console.print(
        f"user [bold]{user.name}[/] is now {user.role.value}, accounts: {user.describe_accounts()}"
    )


@app.command("set-password")
def set_password_command(
    name: str = typer.Argument(..., help="The user name."),
    password_stdin: bool = PASSWORD_STDIN,
) -> None:
    """Give a user a new password (their sessions are logged out)."""
    password = _read_password(password_stdin)
    with open_workspace() as ws:
        user = ws.dashboard_users.set_password(name, password)
    console.print(f"password of [bold]{user.name}[/] changed; their sessions are logged out")


@app.command("remove")
def remove_command(
    name: str = typer.Argument(..., help="The user name."),
) -> None:
    """Remove a user and end their sessions (the last admin cannot be removed)."""
    with open_workspace() as ws:
        user = ws.dashboard_users.remove(name)
    console.print(f"user [bold]{user.name}[/] removed")
