"""Migration 0007 on an existing install: the log's events are answered from the log until
the rollups are built, then from the rollups, with the same answers."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import text

from wxqr.service.stats import StatsService
from wxqr.service.stats._rollup_read import day_span
from wxqr.store.db import make_engine
from wxqr.store.migrate import upgrade

_EVENT = (
    "INSERT INTO events (account_id, dedup_key, kind, openid, msg_type, event, event_key,"
    " scene, channel_id, orphan, create_time, received_at)"
    " VALUES (1, :key, :kind, :openid, 'event', :kind, '', :scene, :channel, false, :t, 0)"
)


def test_an_existing_install_is_built_after_the_migration(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'old.sqlite3'}")
    upgrade(engine, "0006")
    day = 1_714_579_200  # 2024-05-02 00:00 Asia/Shanghai
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO accounts (id, appid, token, created_at) VALUES (1, 'wxold', 't', 0)")
        )
        conn.execute(
            text(
                "INSERT INTO channels (id, account_id, name, tags, follower_tags, created_at,"
                " updated_at) VALUES (1, 1, 'A', '[]', '[]', 0, 0)"
            )
        )
        for n, (kind, openid, channel) in enumerate(
            [("subscribe_scan", "u1", 1), ("scan", "u1", 1), ("subscribe", "u2", None)]
        ):
            conn.execute(
                text(_EVENT),
                {
                    "key": f"k{n}",
                    "kind": kind,
                    "openid": openid,
                    "scene": "a",
                    "channel": channel,
                    "t": day + 3600 * n,
                },
            )
    upgrade(engine)
    stats = StatsService(engine)
    window = stats.window(1, date(2024, 5, 2), date(2024, 5, 2))
    expected = stats.summary(1, window).as_dict()
    assert expected["scans"] == 2
    assert expected["new_followers"] == 2
    with engine.connect() as conn:
        assert day_span(conn, 1, window) is None  # unbuilt: answered from the log
    assert stats.rollups is not None
    assert stats.rollups.build_missing() == 1
    with engine.connect() as conn:
        assert day_span(conn, 1, window) is not None
    assert stats.summary(1, window).as_dict() == expected
    assert stats.summary(1, window, channel_ids=[1]).as_dict() == {
        "scans": 2,
        "unique_scanners": 1,
        "new_followers": 1,
        "returning_followers": 0,
        "unfollows": 0,
        "net_followers": 1,
    }
    engine.dispose()
