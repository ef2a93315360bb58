"""Shared by the channel, code, apikey and admin commands: the workspace, errors, output."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from sqlalchemy.exc import SQLAlchemyError

from wxqr.service.errors import ServiceError
from wxqr.service.workspace import Workspace
from wxqr.settings import Settings, SettingsError
from wxqr.store.db import make_engine
from wxqr.store.migrate import upgrade

__all__ = [
    "ACCOUNT_OPTION",
    "FORMAT_OPTION",
    "OutputFormat",
    "console",
    "emit_json",
    "fail",
    "open_workspace",
]

console = Console()
errors = Console(stderr=True)


class OutputFormat(StrEnum):
    TABLE = "table"
    JSON = "json"


ACCOUNT_OPTION = typer.Option(
    None, "--account", "-a", help="The account's appid (needed only with several accounts)."
)
FORMAT_OPTION = typer.Option(OutputFormat.TABLE, "--format", "-f", help="Output format.")


def fail(message: str, code: int = 1) -> NoReturn:
    errors.print(f"[bold red]error:[/] {escape(message)}", highlight=False)
    raise typer.Exit(code)


def emit_json(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


@contextmanager
def open_workspace(*, migrate: bool = True) -> Iterator[Workspace]:
    """The workspace of ``WXQR_DATABASE_URL``; service errors end the command cleanly."""
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        fail(str(exc))
    engine = make_engine(settings.database_url)
    try:
        if migrate:
            upgrade(engine)
        yield Workspace.open(engine, settings)
    except ServiceError as exc:  # the service layer's one error family
        fail(exc.detail)
    except SQLAlchemyError as exc:
        first_line = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        fail(f"database error ({type(exc).__name__}): {first_line}")
    finally:
        engine.dispose()
