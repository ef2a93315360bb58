"""``wxqr db``: schema migrations (upgrade, current, downgrade), backup and restore."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from wxqr.cli._ws import fail, open_runtime
from wxqr.service.backup import backup_database, restore_database
from wxqr.store.migrate import current_revision, downgrade, head_revision, previous_revision

app = typer.Typer(help="Database: migrations, backup, restore.", no_args_is_help=True)


@app.command("upgrade")
def upgrade_command() -> None:
    """Migrate the database of WXQR_DATABASE_URL to the newest schema."""
    with open_runtime(migrate=False, sync_env_account=False) as runtime:
        before = current_revision(runtime.engine)
        runtime.migrate()
        after = current_revision(runtime.engine)
    if before == after:
        typer.echo(f"database already at revision {after}")
    else:
        typer.echo(f"database upgraded from {before or 'empty'} to {after}")


@app.command("current")
def current_command() -> None:
    """Print the database's revision and the newest one this wxqr ships."""
    with open_runtime(migrate=False, sync_env_account=False) as runtime:
        current = current_revision(runtime.engine)
    typer.echo(f"current: {current or 'empty'}\nhead:    {head_revision()}")


@app.command("downgrade")
def downgrade_command(
    revision: str = typer.Argument(
        ..., help="The revision before the current one (`wxqr db current`), or `-- -1`."
    ),
    yes: bool = typer.Option(False, "--yes", help="Confirm a downgrade that drops tables."),
) -> None:
    """Undo the database's last migration (only that one: roll back one release at a time).

    Run it with the wxqr version you are rolling back FROM, before installing the older
    one; stop every wxqr process first and take a backup (`wxqr db backup`)."""
    with open_runtime(migrate=False, sync_env_account=False) as runtime:
        current = current_revision(runtime.engine)
        if current is None:
            fail("the database is empty: there is no migration to undo")
        try:
            previous = previous_revision(current)
        except ValueError:
            fail(f"the database is at {current}, a revision this wxqr does not know")
        if revision not in ("-1", previous):
            fail(
                f"only the last migration can be undone: the database is at {current}, "
                f"whose previous revision is {previous} (got {revision})"
            )
        if previous == "base" and not yes:
            fail(
                f"undoing {current} drops every table and its data; pass --yes "
                "(after `wxqr db backup`) to do it"
            )
        downgrade(runtime.engine, previous)
    typer.echo(f"database downgraded from {current} to {previous}")


@app.command("backup")
def backup_command(
    path: Annotated[Path, typer.Argument(help="A new file to write the backup to.")],
) -> None:
    """Back up the database while wxqr runs (SQLite: online backup API; PostgreSQL:
    pg_dump custom format)."""
    with open_runtime(migrate=False, sync_env_account=False) as runtime:
        result = backup_database(runtime.engine, path)
    typer.echo(f"backed up the {result.backend} database to {path} ({result.events} events)")


@app.command("restore")
def restore_command(
    path: Annotated[Path, typer.Argument(help="A file written by `wxqr db backup`.")],
    force: bool = typer.Option(
        False, "--force", help="Replace a database that already holds accounts or events."
    ),
) -> None:
    """Restore a backup into the database of WXQR_DATABASE_URL (stop wxqr serve first)."""
    with open_runtime(migrate=False, sync_env_account=False) as runtime:
        result = restore_database(runtime.engine, path, force=force)
    typer.echo(f"restored {path} into the {result.backend} database ({result.events} events)")
