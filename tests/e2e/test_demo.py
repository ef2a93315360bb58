"""``wxqr demo`` runs the whole system with no setup and leaves a dashboard full of data."""

from __future__ import annotations

import json
import shutil
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
from typer.testing import CliRunner

from wxqr.cli.main import app
from wxqr.service.stats import Granularity, StatsService
from wxqr.store.db import make_engine


def test_demo_runs_end_to_end() -> None:
    result = CliRunner().invoke(
        app,
        [
            *("demo", "--no-wait", "--keep", "--scans", "60", "--days", "3", "--port", "0"),
            *("--password", "demo-password", "--format", "json"),
        ],
    )
    assert result.exit_code == 0, result.output
    info = json.loads(result.stdout)
    assert info["password"] == "demo-password"
    assert info["user"] == "admin"  # the dashboard user it made
    assert info["dashboard"].endswith("/dashboard/")
    assert info["channels"] == 6
    assert info["scans"] == 60
    # scan-sessions: the example login page (examples/scan_login) served against the emulator
    assert info["login_page"].startswith("http://")
    database = info["database"].removeprefix("sqlite:///")
    try:
        engine = make_engine(info["database"])
        stats = StatsService(engine)
        account = stats.default_account()
        window = stats.window(account.id, *_last_days(stats, account.id, 4))
        summary = stats.summary(account.id, window)
        assert summary.scans == 60  # every simulated scan was pushed and stored once
        assert summary.unfollows == info["unfollows"]
        assert summary.new_followers > 10
        per_day = stats.series(account.id, window, Granularity.DAY)
        assert sum(1 for p in per_day if p.metrics.scans) >= 3  # spread over the days
        orphans = stats.orphan_scans(account.id, window)
        assert sum(o.scans for o in orphans) == info["orphan_scans"]
        engine.dispose()
    finally:
        shutil.rmtree(Path(database).parent, ignore_errors=True)
    # The servers stopped with the command.
    try:
        httpx.get(info["dashboard"], timeout=2)
    except httpx.TransportError:
        pass
    else:
        raise AssertionError("the demo server still answers after the command ended")


def _last_days(stats: StatsService, account_id: int, days: int) -> tuple[date, date]:
    today = datetime.now(ZoneInfo(stats.account(account_id).timezone)).date()
    return today - timedelta(days=days), today
