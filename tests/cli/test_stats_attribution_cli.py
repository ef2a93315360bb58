"""``wxqr stats --attribution``: the issue's example end to end on a SQLite file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.service.stats._log import LogWriter
from wxqr.cli.main import app
from wxqr.store.db import make_engine
from wxqr.store.tables import metadata

DAY = ("--from", "2024-05-02", "--to", "2024-05-02")


@pytest.fixture
def database(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'wxqr.sqlite3'}"
    engine = make_engine(url)
    metadata.create_all(engine)
    log = LogWriter(engine)
    log.channel("C1")  # id 1
    log.channel("C2")  # id 2
    log.event("subscribe_scan", "u1", "2024-05-02 10:05", "C1")
    log.event("unsubscribe", "u1", "2024-05-02 10:09")
    log.event("subscribe_scan", "u1", "2024-05-02 10:00", "C2")  # arrives late
    engine.dispose()
    return url


def run(url: str, *args: str) -> tuple[int, str, str]:
    env = {"WXQR_DATABASE_URL": url, "COLUMNS": "200"}
    result = CliRunner().invoke(app, ["stats", *args], env=env)
    return result.exit_code, result.stdout, result.stderr


def _unfollows(url: str, *extra: str) -> dict[str, int]:
    code, out, err = run(url, *DAY, "--by", "channel", "-f", "json", *extra)
    assert code == 0, err
    return {row["channel"]: row["unfollows"] for row in json.loads(out)}


def test_first_touch_is_the_default_and_last_touch_is_asked_for(database: str) -> None:
    assert _unfollows(database) == {"C1": 0, "C2": 1}
    assert _unfollows(database, "--attribution", "first_touch") == {"C1": 0, "C2": 1}
    assert _unfollows(database, "--attribution", "last_touch") == {"C1": 1, "C2": 0}
    code, out, _ = run(database, *DAY, "--attribution", "last_touch")
    assert code == 0
    assert "unfollows by last_touch" in " ".join(out.split())


def test_an_unknown_model_is_refused_in_one_line(database: str) -> None:
    code, _out, err = run(database, *DAY, "--attribution", "linear")
    assert code != 0
    assert "Traceback" not in err


def test_the_conversion_is_in_json_csv_and_the_table(database: str) -> None:
    code, out, _ = run(database, *DAY, "-f", "json")
    assert code == 0
    summary = json.loads(out)
    # u1: two follow scans (one new, one returning) by one scanner: 1 new ÷ 1 scanner
    assert (summary["follow_scans"], summary["follower_scans"]) == (2, 0)
    assert summary["conversion_rate"] == 1.0
    code, out, _ = run(database, *DAY, "--by", "channel", "-f", "csv")
    assert code == 0
    header, *rows = out.strip().splitlines()
    assert header.endswith("follow_scans,follower_scans,conversion_rate")
    assert rows[0].endswith(",1,0,0.0")
    assert rows[1].endswith(",1,0,1.0")
    code, out, _ = run(database, *DAY)
    assert code == 0
    assert "conversion_rate" in out
    assert "100.0%" in out
