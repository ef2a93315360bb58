"""``wxqr doctor``: check the install (configuration, database, migrations, Redis, the
accounts' credentials, the public webhook URL, the clock) and say how to fix what is wrong.
Exit status 1 when a check fails."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from wxqr.cli._ws import FORMAT_OPTION, OutputFormat, console, emit_json
from wxqr.doctor import run_checks
from wxqr.settings import Settings

__all__ = ["doctor"]

_MARK = {
    "ok": "[green]  ok[/]",
    "warn": "[yellow]warn[/]",
    "fail": "[bold red]FAIL[/]",
    "skip": "[dim]skip[/]",
}


def doctor(
    webhook_url: Annotated[
        str | None,
        typer.Option(
            "--webhook-url",
            help="The URL entered in WeChat's console (https://…/wechat/<appid>): "
            "an echostr round trip goes through it as WeChat's does.",
        ),
    ] = None,
    output: OutputFormat = FORMAT_OPTION,
) -> None:
    """Check this wxqr install and print what is wrong, with the fix."""
    checks = run_checks(Settings.from_env, webhook_url=webhook_url)
    failed = any(check.status == "fail" for check in checks)
    if output is OutputFormat.JSON:
        emit_json({"ok": not failed, "checks": [check.to_json() for check in checks]})
    else:
        for check in checks:
            console.print(
                f"{_MARK[check.status]} {escape(check.name)}: {escape(check.detail)}",
                highlight=False,
                soft_wrap=True,
            )
            if check.fix:
                console.print(f"     fix: {escape(check.fix)}", highlight=False, soft_wrap=True)
    if failed:
        raise typer.Exit(1)
