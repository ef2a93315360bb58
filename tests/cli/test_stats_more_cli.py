"""``wxqr stats audience | retention`` end to end on a SQLite file (the Typer app), and
``wxqr stats`` itself still answering its options (the group's callback)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.service.stats._follower_reference import load_with_followers
from tests.service.stats._world import Action, build_world
from wxqr.cli.main import app
from wxqr.store.db import make_engine
from wxqr.store.tables import metadata

DAY = 86_400


def _act(user: int, what: str, gap: int, scene: int = 0) -> Action:
    return Action(account=0, user=user, what=what, scene=scene, gap=gap, flip=False)


@pytest.fixture
def database(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'wxqr.sqlite3'}"
    engine = make_engine(url)
    metadata.create_all(engine)
    # 2024-03-08 (Shanghai): u0 through channel 1, u1 plainly; u0 leaves 2 days later.
    world = build_world(
        ["Asia/Shanghai"],
        [["print", None]],
        [_act(0, "scan", 0), _act(1, "follow", 60), _act(0, "unfollow", 2 * DAY)],
    )
    load_with_followers(engine, world)
    engine.dispose()
    return url


def run(url: str, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["stats", *args], env={"WXQR_DATABASE_URL": url})
    return result.exit_code, result.stdout, result.stderr


def test_retention_as_json(database: str) -> None:
    code, out, err = run(
        database,
        "retention",
        "--from",
        "2024-03-08",
        "--to",
        "2024-03-08",
        "--cohort",
        "day",
        "--unfollow-days",
        "7",
        "-f",
        "json",
    )
    assert code == 0, err
    body = json.loads(out)
    (cohort,) = body["cohorts"]
    assert cohort["followers"] == 2
    cells = {cell["day"]: cell["retained"] for cell in cohort["retention"]}
    assert cells[1] == 2
    assert cells[7] == 1
    rates = {row["channel"]: row for row in body["channels"]}
    assert rates["=ch0"]["unfollow_rate"] == 1.0
    assert rates[None]["new_followers"] == 1
    assert rates[None]["unfollowed"] == 0


def test_retention_csv_has_a_column_pair_per_day(database: str) -> None:
    code, out, err = run(
        database, "retention", "--from", "2024-03-08", "--to", "2024-03-10", "-f", "csv"
    )
    assert code == 0, err
    rows = list(csv.reader(io.StringIO(out.lstrip("\ufeff"))))
    assert rows[0][:5] == ["cohort_start", "cohort_end", "followers", "d1_retained", "d1_rate"]
    assert rows[1][2] == "2"
    assert rows[1][3:5] == ["2", "1.0000"]


def test_audience_as_json(database: str) -> None:
    code, out, err = run(
        database, "audience", "--from", "2024-03-07", "--to", "2024-03-11", "-f", "json"
    )
    assert code == 0, err
    body = json.loads(out)
    assert [p["followers"] for p in body["points"]] == [0, 2, 2, 1, 1]
    assert body["followers"] == 1
    assert sum(s["followers"] for s in body["sources"]) == 1


def test_bad_input_is_one_line(database: str) -> None:
    code, _out, err = run(database, "retention", "--from", "08/03/2024")
    assert code == 2
    assert "--from must be a date" in err
    code, _out, err = run(database, "audience", "--channel", "nope")
    assert code == 1
    assert "no channel named" in err
    assert "Traceback" not in err


def test_stats_without_a_subcommand_is_the_metrics_table(database: str) -> None:
    code, out, err = run(database, "--from", "2024-03-08", "--to", "2024-03-08", "-f", "json")
    assert code == 0, err
    assert json.loads(out)["new_followers"] == 2


def test_retention_csv_of_channels_neutralises_formulas(database: str) -> None:
    code, out, err = run(
        database,
        "retention",
        "--from",
        "2024-03-08",
        "--to",
        "2024-03-08",
        "-f",
        "csv",
        "--table",
        "channels",
    )
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out.lstrip("\ufeff"))))
    names = [row["channel"] for row in rows]
    assert "=ch0" not in names  # the channel is named "=ch0": a formula to a spreadsheet
    assert any(name.endswith("=ch0") for name in names)
