"""``wxqr stats`` comparisons, split series, quarters, unambiguous ``-c`` and the scope
rules (the same as the API's: docs/api.md), end to end on a SQLite file."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.service.stats._log import LogWriter
from wxqr.cli.main import app
from wxqr.store.db import make_engine
from wxqr.store.tables import metadata

MAY = ("--from", "2024-05-08", "--to", "2024-05-14")


@pytest.fixture
def database(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'wxqr.sqlite3'}"
    engine = make_engine(url)
    metadata.create_all(engine)
    log = LogWriter(engine)
    log.channel("poster", "print")  # id 1
    log.channel("shop", "print")  # id 2
    log.channel("1")  # id 3, named like poster's id
    log.event("subscribe_scan", "u1", "2024-05-02 10:00", "poster")  # previous period
    log.event("scan", "u1", "2024-05-09 10:00", "poster")
    log.event("scan", "u2", "2024-05-09 11:00", "poster")
    log.event("subscribe_scan", "u3", "2024-05-10 10:00", "shop")
    log.event("scan", "u4", "2024-05-10 11:00", "1")
    engine.dispose()
    return url


def run(url: str, *args: str) -> tuple[int, str, str]:
    # A wide terminal: a table's cells are then never cut.
    env = {"WXQR_DATABASE_URL": url, "COLUMNS": "200"}
    result = CliRunner().invoke(app, ["stats", *args], env=env)
    return result.exit_code, result.stdout, result.stderr


def test_compare_adds_base_change_and_percent(database: str) -> None:
    code, out, _ = run(database, *MAY, "--compare", "previous_period", "-f", "json")
    assert code == 0
    data = json.loads(out)
    assert (data["scans"], data["base_scans"], data["change_scans"]) == (4, 1, 3)
    assert data["percent_scans"] == 300.0
    assert data["percent_unfollows"] is None
    code, out, _ = run(database, *MAY, "--compare", "previous_period")
    assert code == 0
    assert "vs 2024-05-01 … 2024-05-07" in " ".join(out.split())
    assert "+300.0%" in out  # the summary's percent column
    code, out, _ = run(database, *MAY, "--compare", "previous_period", "--by", "channel")
    assert code == 0
    assert "2 (+100.0%)" in out  # poster: 2 scans against 1


def test_compare_by_weekday_and_an_explicit_window(database: str) -> None:
    code, out, _ = run(
        database, *MAY, "--compare", "previous_year", "--align", "weekday", "-f", "json"
    )
    assert code == 0
    assert json.loads(out)["base_scans"] == 0
    explicit = ("--compare-from", "2024-05-01", "--compare-to", "2024-05-31")
    code, out, _ = run(database, *MAY, *explicit, "--by", "channel", "-f", "csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out.removeprefix("\ufeff"))))
    poster = rows[0]
    assert (poster["channel"], poster["scans"], poster["base_scans"]) == ("poster", "2", "3")
    assert poster["change_scans"] == "-1"


def test_split_series_by_channel_in_quarters(database: str) -> None:
    code, out, _ = run(
        database,
        "--from",
        "2024-01-01",
        "--to",
        "2024-12-31",
        "--series",
        "quarter",
        "--split",
        "channel",
        "-f",
        "json",
    )
    assert code == 0
    rows = json.loads(out)
    assert [(r["channel"], r["start"][:10], r["scans"]) for r in rows if r["scans"]] == [
        ("poster", "2024-04-01", 3),
        ("shop", "2024-04-01", 1),
        ("1", "2024-04-01", 1),
    ]
    assert len(rows) == 3 * 4


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("-c", "1"), "say id:1 or name:1"),
        (("-c", "poster", "-g", "print"), "not both"),
        (("--by", "group", "-c", "poster"), "cannot be narrowed to channels"),
        (("--split", "channel"), "--split goes with --series"),
        (("--align", "weekday"), "align needs compare=previous_year"),
        (("--compare-from", "2024-05-01"), "needs compare_to too"),
        (("--compare-from", "May"), "--compare-from must be a date"),
    ],
)
def test_refusals_are_one_line(database: str, args: tuple[str, ...], message: str) -> None:
    code, out, err = run(database, *MAY, *args)
    assert code != 0
    assert message in " ".join((out + err).split())
    assert "Traceback" not in out + err


def test_id_and_name_prefixes_and_a_narrowed_group_table(database: str) -> None:
    code, out, _ = run(database, *MAY, "-c", "id:1", "-f", "json")
    assert code == 0
    assert json.loads(out)["scans"] == 2
    code, out, _ = run(database, *MAY, "-c", "name:1", "-f", "json")
    assert json.loads(out)["scans"] == 1
    code, out, _ = run(database, *MAY, "--by", "group", "-g", "print", "-f", "json")
    assert code == 0
    assert [(r["group"], r["scans"]) for r in json.loads(out)] == [("print", 3)]
