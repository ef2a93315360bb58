"""``wxqr stats rebuild`` end to end on a SQLite file, through the real Typer app."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from tests.service.stats._log import LogWriter
from wxqr.cli.main import app
from wxqr.store.db import make_engine
from wxqr.store.tables import metadata, stats_account_blocks, stats_rollup_state


@pytest.fixture
def database(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'wxqr.sqlite3'}"
    engine = make_engine(url)
    metadata.create_all(engine)
    log = LogWriter(engine)
    log.channel("poster", "print")
    log.event("subscribe_scan", "u1", "2024-05-01 10:00", "poster")
    log.event("scan", "u1", "2024-05-02 09:00", "poster")
    log.event("unsubscribe", "u1", "2024-05-03 10:00")
    log.event("message", "u1", "2024-05-03 10:00")  # not counted
    engine.dispose()
    return url


def run(url: str, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["stats", *args], env={"WXQR_DATABASE_URL": url})
    return result.exit_code, result.stdout, result.stderr


def _rollup_rows(url: str) -> tuple[int, int]:
    engine = make_engine(url)
    with engine.connect() as conn:
        states = conn.execute(select(func.count()).select_from(stats_rollup_state)).scalar()
        days = conn.execute(
            select(func.sum(stats_account_blocks.c.scans)).where(stats_account_blocks.c.level == 0)
        ).scalar()
    engine.dispose()
    return int(states or 0), int(days or 0)


def test_rebuild_is_idempotent_and_the_stats_agree(database: str) -> None:
    code, out, _ = run(database, "rebuild")
    assert code == 0
    assert out.strip() == "wx1234567890abcdef: rollups rebuilt from 3 events"
    assert _rollup_rows(database) == (1, 2)
    code, out, _ = run(
        database, "rebuild", "--account", "wx1234567890abcdef", "--from", "2024-05-02"
    )
    assert (code, out.strip()) == (0, "wx1234567890abcdef: rollups rebuilt from 3 events")
    assert _rollup_rows(database) == (1, 2)
    code, out, _ = run(database, "--from", "2024-05-01", "--to", "2024-05-03", "-f", "json")
    assert code == 0
    assert json.loads(out)["scans"] == 2
    assert json.loads(out)["unfollows"] == 1


def test_rebuild_refuses_an_unknown_account_and_a_bad_date(database: str) -> None:
    code, _out, err = run(database, "rebuild", "--account", "wxnope")
    assert code == 1
    assert err.strip() == "Error: no account with appid 'wxnope'"
    code, _out, err = run(database, "rebuild", "--from", "May 2")
    assert code == 2
    assert "--from must be YYYY-MM-DD" in err


def test_rebuild_from_a_date_reads_only_the_days_from_its_block(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'wxqr.sqlite3'}"
    engine = make_engine(url)
    metadata.create_all(engine)
    log = LogWriter(engine)
    log.channel("poster", "print")
    log.event("subscribe_scan", "u1", "2024-04-20 10:00", "poster")  # before 2024-04-27
    log.event("scan", "u1", "2024-05-02 09:00", "poster")
    engine.dispose()
    assert run(url, "rebuild")[:2] == (0, "wx1234567890abcdef: rollups rebuilt from 2 events\n")
    code, out, _ = run(url, "rebuild", "--from", "2024-05-02")
    assert (code, out.strip()) == (0, "wx1234567890abcdef: rollups rebuilt from 1 events")
    code, out, _ = run(url, "--from", "2024-04-20", "--to", "2024-05-03", "-f", "json")
    assert code == 0
    assert (json.loads(out)["scans"], json.loads(out)["new_followers"]) == (2, 1)
