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


def main() -> None:
    app()
