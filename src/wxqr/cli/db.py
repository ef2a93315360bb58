"""``wxqr db``: schema migrations (upgrade, current, downgrade), backup and restore, and
the key that encrypts stored secrets."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from wxqr.cli._ws import fail, open_runtime
from wxqr.service.backup import backup_database, restore_database
from wxqr.service.secrets_box import new_secret_key
from wxqr.service.secrets_rotation import rotate_secrets

app = typer.Typer(
    help="Database: migrations, backup, restore, encryption of stored secrets.",
    no_args_is_help=True,
)


@app.command("upgrade")
def upgrade_command() -> None:
    """Migrate the database of WXQR_DATABASE_URL to the newest schema."""
    with open_runtime(migrate=False, sync_env_account=False) as runtime:
        before = runtime.schema_revision()
        runtime.migrate()
        after = runtime.schema_revision()
    if before == after:
        typer.echo(f"database already at revision {after}")
    else:
        typer.echo(f"database upgraded from {before or 'empty'} to {after}")


@app.command("current")
def current_command() -> None:
    """Print the database's revision and the newest one this wxqr ships."""
    with open_runtime(migrate=False, sync_env_account=False) as runtime:
        current = runtime.schema_revision()
        head = runtime.schema_head()
    typer.echo(f"current: {current or 'empty'}\nhead:    {head}")


@app.command("new-secret-key")
def new_secret_key_command() -> None:
    """Print a new random key for WXQR_SECRET_KEY (keep it out of the database's backups)."""
    typer.echo(new_secret_key())


@app.command("rotate-secrets")
def rotate_secrets_command() -> None:
    """Encrypt every stored secret again with the first key of WXQR_SECRET_KEY.

    Rotation: set WXQR_SECRET_KEY=new,old everywhere, run this, then drop the old key.
    Also encrypts the plaintext secrets of an install that had no key before.
    """
    with open_runtime(migrate=True, sync_env_account=False) as runtime:
        report = rotate_secrets(runtime.engine, runtime.secret_box)
    typer.echo(
        f"re-encrypted {report.account_secrets} account secret(s), "
        f"{report.access_tokens} access token(s) and {report.session_secrets} session "
        "secret(s) with the first key of WXQR_SECRET_KEY"
    )
    if report.access_tokens_dropped:
        typer.echo(
            f"cleared {report.access_tokens_dropped} access token(s) no key could decrypt "
            "(they are fetched again)"
        )


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
        current = runtime.schema_revision()
        if current is None:
            fail("the database is empty: there is no migration to undo")
        try:
            previous = runtime.schema_previous(current)
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
        runtime.downgrade_schema(previous)
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
