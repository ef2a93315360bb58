"""``wxqr stats rebuild``: rebuild the stats rollups from the event log (docs/metrics.md).

``wxqr stats`` itself stays the one command of :mod:`wxqr.cli.stats`; :func:`stats_group`
makes it a group whose default action is that command, with ``rebuild`` beside it.
"""

from __future__ import annotations

import inspect
from datetime import date
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy.exc import SQLAlchemyError

from wxqr.cli._ws import start_runtime
from wxqr.cli.stats import stats_command
from wxqr.service.errors import ServiceError

__all__ = ["rebuild_command", "stats_group"]


def rebuild_command(
    account: Annotated[
        str | None, typer.Option("--account", "-a", help="Only this account (appid).")
    ] = None,
    date_from: Annotated[
        str | None,
        typer.Option(
            "--from",
            help="Days from this date (YYYY-MM-DD) need rebuilding; the account is refolded "
            "whole, which is exact and no slower than reading those days' history.",
        ),
    ] = None,
) -> None:
    """Rebuild the stats rollups from the event log: idempotent, safe while serving."""
    if date_from is not None:
        try:
            date.fromisoformat(date_from)
        except ValueError:
            typer.echo(f"Error: --from must be YYYY-MM-DD, not {date_from!r}", err=True)
            raise typer.Exit(2) from None
    runtime = start_runtime(migrate=False)
    console = Console(stderr=True)
    try:
        rollups = runtime.workspace.stats.rollups
        if rollups is None:  # pragma: no cover - the runtime's service always has them
            raise typer.Exit(1)
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        ) as bar:
            tasks: dict[int, Any] = {}

            def progress(account_id: int, done: int, total: int) -> None:
                if account_id not in tasks:
                    tasks[account_id] = bar.add_task(f"account {account_id}", total=total)
                bar.update(tasks[account_id], completed=done, total=total)

            rebuilt = rollups.rebuild(account, progress=progress)
    except ServiceError as exc:
        typer.echo(f"Error: {exc.detail}", err=True)
        raise typer.Exit(1) from None
    except SQLAlchemyError as exc:
        typer.echo(f"Error: cannot rebuild the rollups ({type(exc).__name__})", err=True)
        raise typer.Exit(1) from None
    finally:
        runtime.close()
    for done in rebuilt:
        typer.echo(f"{done.appid}: rollups rebuilt from {done.events} events")


def stats_group() -> typer.Typer:
    """``wxqr stats [OPTIONS]`` as before, and ``wxqr stats rebuild``."""
    group = typer.Typer(invoke_without_command=True, no_args_is_help=False)

    def entry(ctx: typer.Context, **options: Any) -> None:
        if ctx.invoked_subcommand is None:
            stats_command(**options)

    own = inspect.signature(stats_command, eval_str=True)
    context = inspect.Parameter(
        "ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=typer.Context
    )
    entry.__signature__ = own.replace(  # type: ignore[attr-defined]
        parameters=[context, *own.parameters.values()]
    )
    entry.__doc__ = stats_command.__doc__
    group.callback()(entry)
    group.command("rebuild")(rebuild_command)
    return group
