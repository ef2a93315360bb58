"""Shared by every command: the runtime (the only way a command reaches the store or
WeChat), errors as one line, output."""

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

from wxqr.runtime import Runtime
from wxqr.service.errors import ServiceError
from wxqr.service.workspace import Workspace
from wxqr.settings import Settings, SettingsError
from wxqr.wechat import WeChatError

__all__ = [
    "ACCOUNT_OPTION",
    "FORMAT_OPTION",
    "OutputFormat",
    "console",
    "emit_json",
    "fail",
    "load_settings",
    "open_runtime",
    "open_workspace",
    "start_runtime",
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
    errors.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def emit_json(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def load_settings() -> Settings:
    """The environment's settings; a bad variable ends the command with one line."""
    try:
        return Settings.from_env()
    except SettingsError as exc:
        fail(str(exc))


def _fail_for(exc: Exception) -> NoReturn:
    """End the command with one line for an error a service or the store raised."""
    if isinstance(exc, ServiceError):
        fail(exc.detail)
    if isinstance(exc, WeChatError):
        fail(f"WeChat call failed: {exc}")
    if isinstance(exc, SQLAlchemyError):
        first_line = (str(getattr(exc, "orig", None) or exc).splitlines() or [""])[0]
        fail(f"database error ({type(exc).__name__}): {first_line}")
    fail(str(exc))


_EXPECTED = (ServiceError, WeChatError, SQLAlchemyError, SettingsError)


def start_runtime(
    *, migrate: bool = True, sync_env_account: bool = True, serve: bool = False
) -> Runtime:
    """Open the runtime of the environment's settings (close it: :func:`open_runtime` does);
    any error doing so ends the command with one line."""
    settings = load_settings()
    try:
        return Runtime.open(
            settings, migrate=migrate, sync_env_account=sync_env_account, serve=serve
        )
    except _EXPECTED as exc:
        _fail_for(exc)


@contextmanager
def open_runtime(
    *, migrate: bool = True, sync_env_account: bool = True, serve: bool = False
) -> Iterator[Runtime]:
    """The runtime of the ``WXQR_*`` settings, closed afterwards; service, WeChat and
    database errors end the command cleanly (one line, exit 1)."""
    runtime = start_runtime(migrate=migrate, sync_env_account=sync_env_account, serve=serve)
    try:
        yield runtime
    except _EXPECTED as exc:
        _fail_for(exc)
    finally:
        runtime.close()


@contextmanager
def open_workspace(*, migrate: bool = True) -> Iterator[Workspace]:
    """The workspace of the runtime of the ``WXQR_*`` settings (see :func:`open_runtime`)."""
    with open_runtime(migrate=migrate) as runtime:
        yield runtime.workspace
