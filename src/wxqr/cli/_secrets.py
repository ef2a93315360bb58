"""Secrets given to a command without putting them on its command line.

A value on the command line (``--token VALUE``) is visible to every local user for as long
as the command runs (``ps``, ``/proc/<pid>/cmdline``) and often lands in shell history.
So every secret option also takes ``-`` (ask for it with hidden input on a terminal, else
read one line of standard input) and has a ``--…-stdin`` twin (read one line of standard
input; several such flags read one line each, in the order the command documents).
"""

from __future__ import annotations

import sys

import typer

from wxqr.cli._ws import fail

__all__ = ["ARGV_NOTE", "read_required_secret", "read_secret"]

#: Appended to the help of every option that takes a secret on the command line.
ARGV_NOTE = "A value given here is visible to local users (ps): prefer '-' or the -stdin flag."


def _stdin_line(label: str) -> str:
    line = sys.stdin.readline()
    if not line:
        fail(f"expected the {label} on standard input, found nothing")
    return line.rstrip("\r\n")


def _ask(label: str, *, optional: bool) -> str:
    if optional:
        answer: str = typer.prompt(
            f"{label} (Enter for none)", default="", show_default=False, hide_input=True
        )
        return answer
    answered: str = typer.prompt(label, hide_input=True)
    return answered


def read_secret(
    label: str,
    value: str | None,
    *,
    from_stdin: bool,
    option: str,
    required: bool = False,
    ask_when_omitted: bool = True,
) -> str | None:
    """The secret ``option`` stands for (``None``: not given, for an optional one).

    ``value`` is the option's value (``None`` when omitted); ``from_stdin`` its
    ``--…-stdin`` flag. Omitted: a required secret is asked for (hidden input; one line of
    standard input when that is no terminal); an optional one is asked for only on a
    terminal and when ``ask_when_omitted``.
    """
    if from_stdin:
        if value is not None:
            fail(f"give {option} or {option}-stdin, not both")
        secret = _stdin_line(label)
    elif value == "-":
        secret = _ask(label, optional=not required) if sys.stdin.isatty() else _stdin_line(label)
    elif value is not None:
        secret = value
    elif required:
        secret = _ask(label, optional=False)
    elif ask_when_omitted and sys.stdin.isatty():
        secret = _ask(label, optional=True)
    else:
        return None
    if required and not secret:
        fail(f"the {label} may not be empty")
    return secret or None


def read_required_secret(label: str, value: str | None, *, from_stdin: bool, option: str) -> str:
    """:func:`read_secret` for a secret the command cannot do without (never empty)."""
    secret = read_secret(label, value, from_stdin=from_stdin, option=option, required=True)
    if secret is None:  # pragma: no cover - read_secret fails on an empty required one
        fail(f"the {label} may not be empty")
    return secret
