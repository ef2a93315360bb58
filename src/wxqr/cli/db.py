"""``wxqr db``: schema migrations."""

from __future__ import annotations

import typer

from wxqr.cli._ws import open_runtime

app = typer.Typer(help="Database schema (migrations).", no_args_is_help=True)


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
