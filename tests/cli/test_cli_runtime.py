"""Every CLI command opens the same runtime: a bad setting is one line, the environment's
account is visible at once."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from wxqr.cli.main import app

AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"

BAD_SETTINGS = {
    "safe-without-key": (
        {"WXQR_APPID": "wx3333333333333333", "WXQR_TOKEN": "t", "WXQR_ENCRYPT_MODE": "safe"},
        "WXQR_ENCRYPT_MODE=safe needs WXQR_AES_KEY",
    ),
    "max-age-not-a-number": (
        {"WXQR_PUSH_MAX_AGE_SECONDS": "abc"},
        "WXQR_PUSH_MAX_AGE_SECONDS must be a number, got 'abc'",
    ),
    "mysql-url": (
        {"WXQR_DATABASE_URL": "mysql://wxqr:hunter2@db.internal/wxqr"},
        "WXQR_DATABASE_URL must be a sqlite:// or postgresql:// URL",
    ),
}

COMMANDS = [
    ["account", "list"],
    ["account", "add", "--appid", "wx4444444444444444", "--token", "tok"],
    ["db", "upgrade"],
    ["db", "current"],
    ["stats"],
    ["channel", "list"],
    ["code", "resume"],
    ["apikey", "list"],
    ["admin", "set-password", "--password-stdin"],
    ["serve"],
]


@pytest.mark.parametrize("bad", list(BAD_SETTINGS), ids=str)
@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c[:2]))
def test_a_bad_setting_is_one_line_and_a_failure(
    command: list[str], bad: str, tmp_path: Path
) -> None:
    env, message = BAD_SETTINGS[bad]
    env = {"WXQR_DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}", **env}
    result = CliRunner().invoke(app, command, env=env, input="long-enough-password\n")
    assert result.exit_code != 0
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert lines[0].startswith("error: ")
    assert message in lines[0]
    assert "hunter2" not in result.output  # the URL's password is never echoed
    assert not (tmp_path / "x.sqlite3").exists()  # nothing was opened


def test_the_environments_account_is_listed_before_serve_ever_ran(tmp_path: Path) -> None:
    env = {
        "WXQR_DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.sqlite3'}",
        "WXQR_APPID": "wx5555555555555555",
        "WXQR_TOKEN": "tok-5",
        "WXQR_APP_SECRET": "secret-5",
        "WXQR_AES_KEY": AES_KEY,
        "WXQR_ENCRYPT_MODE": "compatible",
    }
    listed = CliRunner().invoke(app, ["account", "list"], env=env)
    assert listed.exit_code == 0, listed.output
    assert "wx5555555555555555" in listed.output
    assert "compatible" in listed.output
    assert "secret-5" not in listed.output
    # A changed variable updates the stored account on the next command.
    changed = CliRunner().invoke(app, ["account", "list"], env={**env, "WXQR_ENCRYPT_MODE": "safe"})
    assert "safe" in changed.output
    assert "compatible" not in changed.output


def test_a_database_that_cannot_be_opened_is_one_line(tmp_path: Path) -> None:
    env = {"WXQR_DATABASE_URL": f"sqlite:///{tmp_path / 'missing-dir' / 'x.sqlite3'}"}
    result = CliRunner().invoke(app, ["account", "list"], env=env)
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert lines[0].startswith("error: database error (OperationalError)")
