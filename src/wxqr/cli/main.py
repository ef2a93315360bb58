"""Entry point of the ``wxqr`` command.

Each command group lives in its own module of this package and is registered below.
"""

from __future__ import annotations

import typer

from wxqr._version import __version__

app = typer.Typer(
    name="wxqr",
    help="WeChat parametric QR codes and channel analytics.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"wxqr {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_print_version, is_eager=True, help="Print the version."
    ),
) -> None:
    """WeChat parametric QR codes and channel analytics."""


from wxqr.cli import account as _account_cli  # noqa: E402
from wxqr.cli import admin as _admin_cli  # noqa: E402
from wxqr.cli import apikey as _apikey_cli  # noqa: E402
from wxqr.cli import channel as _channel_cli  # noqa: E402
from wxqr.cli import code as _code_cli  # noqa: E402
from wxqr.cli import db as _db_cli  # noqa: E402
from wxqr.cli import demo as _demo_cli  # noqa: E402
from wxqr.cli import doctor as _doctor_cli  # noqa: E402
from wxqr.cli import emulator as _emulator_cli  # noqa: E402
from wxqr.cli import poster as _poster_cli  # noqa: E402  # posters:
from wxqr.cli import serve as _serve_cli  # noqa: E402
from wxqr.cli import session as _session_cli  # noqa: E402  # scan-sessions:
from wxqr.cli import stats_more as _stats_more_cli  # noqa: E402  # stats-retention:
from wxqr.cli import stats_rebuild as _stats_rebuild_cli  # noqa: E402
from wxqr.cli import user as _user_cli  # noqa: E402  # dashboard-team:
from wxqr.cli import webhook as _webhook_cli  # noqa: E402  # webhooks:

app.add_typer(_db_cli.app, name="db")
app.add_typer(_account_cli.app, name="account")
app.command("serve")(_serve_cli.serve)
app.command("emulator")(_emulator_cli.emulator)
app.add_typer(_channel_cli.app, name="channel")
app.add_typer(_code_cli.app, name="code")
app.add_typer(_apikey_cli.app, name="apikey")
app.add_typer(_admin_cli.app, name="admin")
app.command("demo")(_demo_cli.demo)
# wxqr stats [OPTIONS] (the tables), and audience, retention, reconcile and rebuild.
_stats_more_cli.stats_app.command("rebuild")(_stats_rebuild_cli.rebuild_command)
app.add_typer(_stats_more_cli.stats_app, name="stats")
app.add_typer(_webhook_cli.app, name="webhook")  # webhooks:
app.command("doctor")(_doctor_cli.doctor)  # ops
app.add_typer(_session_cli.session_app, name="session")  # scan-sessions:
app.add_typer(_session_cli.binding_app, name="binding")  # scan-sessions:
app.add_typer(_poster_cli.app, name="poster")  # posters:
app.add_typer(_user_cli.app, name="user")  # dashboard-team:


def main() -> None:
    app()
