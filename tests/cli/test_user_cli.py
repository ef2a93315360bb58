"""``wxqr user add|list|set-role|set-password|remove`` against a real database file."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from wxqr.cli.main import app
from wxqr.runtime import Runtime
from wxqr.settings import Settings

PASSWORD = "correct horse battery"


def test_the_team_from_the_command_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    env = {"WXQR_DATABASE_URL": url}
    runner = CliRunner()
    assert runner.invoke(app, ["db", "upgrade"], env=env).exit_code == 0
    added = runner.invoke(
        app,
        ["user", "add", "Li.Lei", "--role", "editor", "--password-stdin"],
        input=PASSWORD + "\n",
        env=env,
    )
    assert added.exit_code == 0, added.output
    assert "li.lei" in added.output
    assert PASSWORD not in added.output  # never echoed
    prompted = runner.invoke(
        app, ["user", "add", "boss", "--role", "admin"], input=f"{PASSWORD}\n{PASSWORD}\n", env=env
    )
    assert prompted.exit_code == 0, prompted.output
    assert PASSWORD not in prompted.output

    listed = runner.invoke(app, ["user", "list", "--format", "json"], env=env)
    assert listed.exit_code == 0, listed.output
    users = {u["name"]: u for u in json.loads(listed.output)}
    assert users["li.lei"]["role"] == "editor"
    assert users["li.lei"]["accounts"] is None
    assert users["boss"]["role"] == "admin"
    assert "password" not in listed.output

    changed = runner.invoke(app, ["user", "set-role", "li.lei", "viewer"], env=env)
    assert changed.exit_code == 0, changed.output
    assert "viewer" in changed.output

    # One line, exit 1, for what cannot be done.
    for args, said in (
        (["user", "set-role", "li.lei", "owner"], "admin, editor or viewer"),
        (["user", "set-role", "nobody", "viewer"], "no dashboard user"),
        (["user", "set-role", "li.lei", "editor", "--account", "wx-none"], "no account"),
        (["user", "remove", "boss"], "last admin"),
    ):
        refused = runner.invoke(app, args, env=env)
        assert refused.exit_code == 1, args
        assert said in refused.output, refused.output
    short = runner.invoke(app, ["user", "add", "x", "--password-stdin"], input="short\n", env=env)
    assert short.exit_code == 1
    assert "at least 8" in short.output

    new_password = runner.invoke(
        app,
        ["user", "set-password", "li.lei", "--password-stdin"],
        input="a new password\n",
        env=env,
    )
    assert new_password.exit_code == 0, new_password.output
    with Runtime.open(Settings(database_url=url)) as runtime:
        team = runtime.workspace.dashboard_users
        assert team.login("li.lei", "a new password") is not None
        assert team.login("li.lei", PASSWORD) is None

    assert runner.invoke(app, ["user", "remove", "li.lei"], env=env).exit_code == 0
    listed = runner.invoke(app, ["user", "list", "--format", "json"], env=env)
    assert [u["name"] for u in json.loads(listed.output)] == ["boss"]
