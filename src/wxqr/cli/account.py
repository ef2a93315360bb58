"""``wxqr account``: the Official Accounts this install serves (secrets never printed).

Secrets are best given as ``-`` (hidden prompt) or through ``--…-stdin`` rather than on
the command line, where other local users can read them (see :mod:`wxqr.cli._secrets`).
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from wxqr.cli._secrets import ARGV_NOTE, read_required_secret, read_secret
from wxqr.cli._ws import open_runtime
from wxqr.protocol import EncryptMode
from wxqr.service.accounts import add_account, list_accounts

app = typer.Typer(help="Official Accounts served by this install.", no_args_is_help=True)


@app.command("add")
def add_command(
    appid: str = typer.Option(..., "--appid", help="The account's AppID (wx…)."),
    token: str | None = typer.Option(
        None,
        "--token",
        help="The Token of the server config ('-' or omitted: asked for, hidden). " + ARGV_NOTE,
        show_default=False,
    ),
    token_stdin: bool = typer.Option(
        False, "--token-stdin", help="Read the token from standard input (first line)."
    ),
    app_secret: str | None = typer.Option(
        None,
        "--app-secret",
        help="AppSecret, needed for QR codes, tags, user info ('-': asked for). " + ARGV_NOTE,
        show_default=False,
    ),
    app_secret_stdin: bool = typer.Option(
        False, "--app-secret-stdin", help="Read the AppSecret from standard input (next line)."
    ),
    aes_key: str | None = typer.Option(
        None,
        "--aes-key",
        help="EncodingAESKey, 43 characters ('-': asked for). " + ARGV_NOTE,
        show_default=False,
    ),
    aes_key_stdin: bool = typer.Option(
        False, "--aes-key-stdin", help="Read the EncodingAESKey from standard input (next line)."
    ),
    mode: Annotated[
        EncryptMode, typer.Option("--mode", help="Message encryption mode.")
    ] = EncryptMode.PLAIN,
    name: str = typer.Option("", "--name", help="A display name."),
    timezone: str = typer.Option(
        "Asia/Shanghai", "--timezone", help="Time zone of the account's stats."
    ),
) -> None:
    """Add an account.

    Secrets: '-' asks for one with hidden input (on a terminal); the --…-stdin flags read
    one line of standard input each, in this order: token, AppSecret, EncodingAESKey. On a
    terminal, an omitted token or AppSecret is asked for (and the AES key, for the
    compatible and safe modes).
    """
    secret_token = read_required_secret("token", token, from_stdin=token_stdin, option="--token")
    secret_app = read_secret(
        "AppSecret", app_secret, from_stdin=app_secret_stdin, option="--app-secret"
    )
    secret_aes = read_secret(
        "EncodingAESKey",
        aes_key,
        from_stdin=aes_key_stdin,
        option="--aes-key",
        ask_when_omitted=mode is not EncryptMode.PLAIN,
    )
    with open_runtime() as runtime:
        account = add_account(
            runtime.engine,
            appid=appid,
            token=secret_token,
            app_secret=secret_app,
            aes_key=secret_aes,
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
