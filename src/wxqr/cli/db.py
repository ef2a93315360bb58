"""``wxqr db``: schema migrations, and the key that encrypts stored secrets."""

from __future__ import annotations

import typer

from wxqr.cli._ws import open_runtime
from wxqr.service.secrets_box import new_secret_key
from wxqr.service.secrets_rotation import rotate_secrets

app = typer.Typer(
    help="Database schema (migrations) and encryption of stored secrets.", no_args_is_help=True
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
