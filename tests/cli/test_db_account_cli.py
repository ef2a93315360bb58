"""``wxqr db upgrade`` and ``wxqr account add|list`` against a real database file."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from wxqr.cli.main import app
from wxqr.service.accounts import get_account
from wxqr.store.db import make_engine
from wxqr.store.migrate import current_revision, head_revision

AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"


def test_db_upgrade_and_accounts(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    env = {"WXQR_DATABASE_URL": url}
    runner = CliRunner()
    first = runner.invoke(app, ["db", "upgrade"], env=env)
    assert first.exit_code == 0, first.output
    assert "upgraded from empty" in first.output
    assert "already at" in runner.invoke(app, ["db", "upgrade"], env=env).output
    added = runner.invoke(
        app,
        [
            "account",
            "add",
            "--appid",
            "wx1111111111111111",
            "--app-secret",
            "app-secret-9x7",
            "--aes-key",
            AES_KEY,
            "--mode",
            "safe",
            "--name",
            "Shop",
        ],
        input="tok-3n8f\n",
        env=env,
    )
    assert added.exit_code == 0, added.output
    assert "/wechat/wx1111111111111111" in added.output
    duplicate = runner.invoke(
        app, ["account", "add", "--appid", "wx1111111111111111", "--token", "t"], env=env
    )
    assert duplicate.exit_code == 1
    assert "already exists" in duplicate.output
    listed = runner.invoke(app, ["account", "list"], env=env)
    assert listed.exit_code == 0
    assert "wx1111111111111111" in listed.output
    assert "safe" in listed.output
    for secret in ("tok-3n8f", "app-secret-9x7", AES_KEY):
        assert secret not in listed.output
        assert secret not in added.output
    engine = make_engine(url)
    account = get_account(engine, "wx1111111111111111")
    assert current_revision(engine) == head_revision()
    engine.dispose()
    assert account is not None
    assert account.token == "tok-3n8f"
