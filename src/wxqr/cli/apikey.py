"""``wxqr apikey``: keys for the REST API (shown once, stored hashed), with their scopes."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from wxqr.cli._ws import FORMAT_OPTION, OutputFormat, console, emit_json, open_workspace
from wxqr.service.apikeys import ApiKey

__all__ = ["app"]

app = typer.Typer(help="API keys of the REST API.", no_args_is_help=True)


def _key_dict(key: ApiKey) -> dict[str, object]:
    return {
        "name": key.name,
        "prefix": key.prefix,
        "created_at": key.created_at,
        "last_used_at": key.last_used_at,
        "revoked_at": key.revoked_at,
        "accounts": None if key.scope.appids is None else sorted(key.scope.appids),
        "read_only": key.scope.read_only,
    }


@app.command("create")
def create_command(
    name: str = typer.Option(..., "--name", "-n", help="What the key is for (unique)."),
    account: Annotated[
        list[str] | None,
        typer.Option(
            "--account",
            "-a",
            help="An appid the key may touch; repeat for several (default: every account).",
        ),
    ] = None,
    read_only: bool = typer.Option(
        False, "--read-only", help="The key may only read (writes get 403)."
    ),
    output: OutputFormat = FORMAT_OPTION,
) -> None:
    """Make a key and print it once: wxqr keeps only its hash."""
    with open_workspace() as ws:
        created = ws.api_keys.create(name, accounts=account, read_only=read_only)
    if output is OutputFormat.JSON:
        emit_json({**_key_dict(created.key), "key": created.secret})
        return
    console.print(
        f"API key [bold]{created.key.name}[/] ({created.key.scope.describe()}) created. "
        "It is shown only this once:"
    )
    typer.echo(created.secret)
    console.print("Send it as the X-API-Key header (or Authorization: Bearer KEY).")


@app.command("list")
def list_command(output: OutputFormat = FORMAT_OPTION) -> None:
    """List the keys (names, prefixes and scopes; never the secrets)."""
    with open_workspace() as ws:
        keys = ws.api_keys.list_keys()
    if output is OutputFormat.JSON:
        emit_json([_key_dict(k) for k in keys])
        return
    table = Table("name", "prefix", "accounts", "access", "created", "last used", "status")
    for k in keys:
        table.add_row(
            k.name,
            k.prefix + "…",
            "all" if k.scope.appids is None else ", ".join(sorted(k.scope.appids)),
            "read-only" if k.scope.read_only else "read-write",
            str(k.created_at),
            str(k.last_used_at or "—"),
            "active" if k.active else "revoked",
        )
    console.print(table)


@app.command("revoke")
def revoke_command(
    name: str = typer.Argument(..., help="The key's name."),
    output: OutputFormat = FORMAT_OPTION,
) -> None:
    """Revoke a key: requests with it get 401 from now on."""
    with open_workspace() as ws:
        key = ws.api_keys.revoke(name)
    if output is OutputFormat.JSON:
        emit_json(_key_dict(key))
    else:
        console.print(f"revoked API key {key.name}")
