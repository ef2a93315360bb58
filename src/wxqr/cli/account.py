"""``wxqr account``: the Official Accounts this install serves (secrets never printed)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from wxqr.cli._ws import open_runtime
from wxqr.protocol import EncryptMode
from wxqr.service.accounts import add_account, list_accounts

app = typer.Typer(help="Official Accounts served by this install.", no_args_is_help=True)


@app.command("add")
def add_command(
    appid: str = typer.Option(..., "--appid", help="The account's AppID (wx…)."),
    token: str = typer.Option(
        ..., "--token", prompt=True, hide_input=True, help="The Token of the server config."
    ),
    app_secret: str = typer.Option(
        "", "--app-secret", help="AppSecret (needed for QR codes, tags, user info)."
    ),
    aes_key: str = typer.Option("", "--aes-key", help="EncodingAESKey (43 characters)."),
    mode: Annotated[
        EncryptMode, typer.Option("--mode", help="Message encryption mode.")
    ] = EncryptMode.PLAIN,
    name: str = typer.Option("", "--name", help="A display name."),
    timezone: str = typer.Option(
        "Asia/Shanghai", "--timezone", help="Time zone of the account's stats."
    ),
) -> None:
    """Add an account. Secrets may also come from the prompt (the token) or be left out."""
    with open_runtime() as runtime:
        account = add_account(
            runtime.engine,
            appid=appid,
            token=token,
            app_secret=app_secret or None,
            aes_key=aes_key or None,
            encrypt_mode=mode,
            name=name,
            timezone=timezone,
        )
    typer.echo(f"added account {account.appid} ({account.encrypt_mode.value} mode)")
    typer.echo(f"webhook URL: https://YOUR-HOST/wechat/{account.appid}")


@app.command("list")
def list_command() -> None:
    """List the accounts (no secrets: only whether each one is set)."""
    with open_runtime() as runtime:
        accounts = list_accounts(runtime.engine)
    table = Table("appid", "name", "mode", "original id", "app secret", "AES key")
    for account in accounts:
        info = account.info()
        table.add_row(
            info.appid,
            info.name,
            info.encrypt_mode.value,
            info.original_id or "-",
            "set" if info.has_app_secret else "-",
            "set" if info.has_aes_key else "-",
        )
    Console(width=120).print(table)
