"""``wxqr db``: schema migrations."""

from __future__ import annotations

import typer

from wxqr.settings import Settings
from wxqr.store.db import make_engine
from wxqr.store.migrate import current_revision, head_revision, upgrade

app = typer.Typer(help="Database schema (migrations).", no_args_is_help=True)


@app.command("upgrade")
def upgrade_command() -> None:
    """Migrate the database of WXQR_DATABASE_URL to the newest schema."""
    engine = make_engine(Settings.from_env().database_url)
    try:
        before = current_revision(engine)
        upgrade(engine)
        after = current_revision(engine)
    finally:
        engine.dispose()
    if before == after:
        typer.echo(f"database already at revision {after}")
    else:
        typer.echo(f"database upgraded from {before or 'empty'} to {after}")


@app.command("current")
def current_command() -> None:
    """Print the database's revision and the newest one this wxqr ships."""
    engine = make_engine(Settings.from_env().database_url)
    try:
        current = current_revision(engine)
    finally:
        engine.dispose()
    typer.echo(f"current: {current or 'empty'}\nhead:    {head_revision()}")
