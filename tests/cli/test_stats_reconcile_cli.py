"""``wxqr stats reconcile`` in-process on a real database, against the emulator's data
cube: a follow wxqr missed shows as a difference; WeChat failing is one line."""

from __future__ import annotations

import json
import random
import time
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from typer.testing import CliRunner, Result

from tests.support.stack import APPID, Stack, openids
from wxqr.cli.main import app

CHINA = ZoneInfo("Asia/Shanghai")


def _run(stack: Stack, database_url: str, *args: str) -> Result:
    env = {
        "WXQR_DATABASE_URL": database_url,
        "WXQR_WECHAT_API_BASE": stack.emulator.base_url,
        "WXQR_WECHAT_MP_BASE": stack.emulator.base_url,
    }
    return CliRunner().invoke(app, ["stats", "reconcile", *args], env=env)


def test_reconcile_shows_a_missed_follow(stack: Stack, database_url: str) -> None:
    emu = stack.emulator
    day = date(2018, 1, 1) + timedelta(days=random.randrange(700))
    first, second = openids(2)
    try:
        emu.set_clock(datetime(day.year, day.month, day.day, 9, tzinfo=CHINA).timestamp())
        assert emu.follow(first).pushes[0].delivered
        emu.set_push_url(APPID, None)
        emu.follow(second)  # wxqr never hears of it
    finally:
        emu.set_push_url(APPID, f"{stack.base_url}/wechat/{APPID}")
        emu.set_clock(time.time())
    result = _run(
        stack, database_url, "--from", day.isoformat(), "--to", day.isoformat(), "-f", "json"
    )
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.stdout)
    assert row["wxqr"]["follows"] == 1
    assert row["wechat"]["follows"] == 2
    assert row["causes"] == ["missed_pushes", "other_sources"]
    table = _run(stack, database_url, "--from", day.isoformat(), "--to", day.isoformat())
    assert table.exit_code == 0, table.output
    assert "1 / 2" in table.stdout


def test_wechat_failing_is_one_line(stack: Stack, database_url: str) -> None:
    stack.emulator.set_faults(busy_ratio=1.0, paths=["/datacube/"])
    try:
        result = _run(stack, database_url, "--from", "2015-03-01", "--to", "2015-03-02")
    finally:
        stack.emulator.set_faults()
    assert result.exit_code == 1
    assert "WeChat" in result.stderr
    assert "Traceback" not in result.output
