"""``wxqr stats`` end to end on a SQLite file, through the real Typer app."""

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

SIX = [
    "scans",
    "unique_scanners",
    "new_followers",
    "returning_followers",
    "unfollows",
    "net_followers",
]
CONVERSION = ["follow_scans", "follower_scans", "conversion_rate"]


def _six(data: dict[str, object]) -> dict[str, object]:
    """The six metrics of a JSON row (the conversion is checked on its own)."""
    assert list(data)[6:9] == CONVERSION
    return {name: data[name] for name in SIX}


@pytest.fixture
def database(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'wxqr.sqlite3'}"
    engine = make_engine(url)
    metadata.create_all(engine)
    log = LogWriter(engine)
    log.channel("poster", "print")
    log.channel("shop", "print", scenes_=("shop-1", "shop-2"))
    log.channel("12")  # a channel named like an id
    log.event("subscribe_scan", "u1", "2024-05-01 10:00", "poster")
    log.event("scan", "u1", "2024-05-02 09:00", "shop-1")
    log.event("subscribe_scan", "u2", "2024-05-02 10:00", "shop-2")
    log.event("unsubscribe", "u1", "2024-05-03 10:00")
    log.event("subscribe_scan", "u1", "2024-05-03 11:00", "shop-1")
    log.event("subscribe_scan", "u3", "2024-05-03 12:00", "ghost")  # orphan
    engine.dispose()
    return url


def run(url: str, *args: str) -> tuple[int, str, str]:
    runner = CliRunner()
    result = runner.invoke(app, ["stats", *args], env={"WXQR_DATABASE_URL": url})
    return result.exit_code, result.stdout, result.stderr


def test_json_summary_has_exactly_the_metric_names(database: str) -> None:
    code, out, _ = run(database, "--from", "2024-05-01", "--to", "2024-05-03", "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert list(data) == SIX + CONVERSION
    assert (data["follow_scans"], data["follower_scans"], data["conversion_rate"]) == (4, 1, 1.0)
    assert _six(data) == {
        "scans": 5,
        "unique_scanners": 3,
        "new_followers": 3,
        "returning_followers": 1,
        "unfollows": 1,
        "net_followers": 3,
    }


def test_channel_by_name_or_id_and_group(database: str) -> None:
    dates = ("--from", "2024-05-01", "--to", "2024-05-03", "-f", "json")
    code, out, _ = run(database, "--channel", "shop", *dates)
    assert code == 0
    assert _six(json.loads(out)) == dict(zip(SIX, [3, 2, 1, 1, 0, 2], strict=True))
    code, out, _ = run(database, "--channel", "1", *dates)  # poster's id
    assert _six(json.loads(out)) == dict(zip(SIX, [1, 1, 1, 0, 1, 0], strict=True))
    code, out, _ = run(database, "--group", "print", *dates)
    assert _six(json.loads(out)) == dict(zip(SIX, [4, 2, 2, 1, 1, 2], strict=True))
    code, out, _ = run(database, "--channel", "12", *dates)  # the name wins over id 12
    assert code == 0
    assert json.loads(out)["scans"] == 0


def test_series_as_csv_and_json(database: str) -> None:
    args = ("--channel", "shop", "--from", "2024-05-01", "--to", "2024-05-03", "--series", "day")
    code, out, _ = run(database, *args, "--format", "csv")
    assert code == 0
    assert out.startswith("\ufeff")  # the same byte-order mark as the API's CSV
    rows = list(csv.DictReader(io.StringIO(out.removeprefix("\ufeff"))))
    assert [r["start"] for r in rows] == [
        "2024-05-01T00:00:00+08:00",
        "2024-05-02T00:00:00+08:00",
        "2024-05-03T00:00:00+08:00",
    ]
    assert [int(r["scans"]) for r in rows] == [0, 2, 1]
    code, out, _ = run(database, *args, "--format", "json")
    points = json.loads(out)
    assert [p["returning_followers"] for p in points] == [0, 0, 1]
    assert set(points[0]) == {"start", "end", *SIX, *CONVERSION}


def test_breakdowns_and_the_default_table(database: str) -> None:
    dates = ("--from", "2024-05-01", "--to", "2024-05-03")
    code, out, _ = run(database, *dates, "--by", "channel", "-f", "json")
    assert code == 0
    assert [(r["channel"], r["scans"]) for r in json.loads(out)] == [
        ("poster", 1),
        ("shop", 3),
        ("12", 0),
    ]
    code, out, _ = run(database, *dates, "--by", "group", "-f", "json")
    assert [(r["group"], r["channels"], r["unique_scanners"]) for r in json.loads(out)] == [
        ("print", 2, 2),
        (None, 1, 0),
    ]
    code, out, _ = run(database, *dates)
    assert code == 0
    assert "unique_scanners" in out
    assert "Asia/Shanghai" in out


@pytest.mark.parametrize(
    ("args", "message", "exit_code"),
    [
        (("--from", "May 1st"), "--from must be a date like 2024-05-31", 2),
        (("--from", "2024-05-04", "--to", "2024-05-03"), "is after to date", 1),
        (("--channel", "nope"), "no channel named or numbered 'nope'", 1),
        (("--group", "nope"), "no channel in group 'nope'", 1),
        (("--account", "wxnope"), "no account with appid 'wxnope'", 1),
        (("--series", "day", "--by", "group"), "cannot be combined", 1),
        (("--series", "decade"), "decade", 2),
    ],
)
def test_bad_input_fails_clearly(
    database: str, args: tuple[str, ...], message: str, exit_code: int
) -> None:
    code, out, err = run(database, *args)
    assert code == exit_code
    assert message in " ".join((out + err).split())


def test_a_database_without_tables_is_a_clear_error(tmp_path: Path) -> None:
    code, _, err = run(f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    assert code == 1
    assert "cannot read the database" in err
