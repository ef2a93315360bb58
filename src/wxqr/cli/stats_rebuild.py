"""``wxqr stats rebuild``: rebuild the stats rollups from the event log (docs/metrics.md).

Registered on the ``wxqr stats`` group (:mod:`wxqr.cli.stats_more`) beside audience,
retention and reconcile.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy.exc import SQLAlchemyError

from wxqr.cli._ws import start_runtime
from wxqr.service.errors import ServiceError

__all__ = ["rebuild_command"]


def rebuild_command(
    account: Annotated[
        str | None, typer.Option("--account", "-a", help="Only this account (appid).")
    ] = None,
    date_from: Annotated[
        str | None,
        typer.Option(
            "--from",
            help="Only rebuild the days from this date (YYYY-MM-DD), from the 64-day block "
            "boundary at or before it; earlier days are kept.",
        ),
    ] = None,
) -> None:
    """Rebuild the stats rollups from the event log: idempotent, safe while serving."""
    since = None
    if date_from is not None:
        try:
            since = date.fromisoformat(date_from)
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

            rebuilt = rollups.rebuild(account, progress=progress, since=since)
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
