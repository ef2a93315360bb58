"""``rebuild(since=…)``: only the days from the top-level block at or before ``since`` are
refolded; the result equals a whole rebuild and the log, whatever was queued or corrupted.

Runs on SQLite, and on PostgreSQL when it is configured.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select, update

from wxqr.service.stats import StatsService, Window
from wxqr.service.stats._rollup_days import date_of_day
from wxqr.service.stats._rollup_partial import range_start
from wxqr.store.tables import (
    accounts,
    stats_account_blocks,
    stats_channel_blocks,
    stats_pending,
    stats_users,
)

from ._log import LogWriter
from ._world import World, load, worlds

# 2024-04-27 is a top-level (64-day) block boundary: day 19840 of 1970-01-01.
BOUNDARY = date(2024, 4, 27)


def test_the_range_starts_at_a_top_level_block_boundary() -> None:
    assert range_start(BOUNDARY) == 19840
    assert date_of_day(range_start(date(2024, 6, 29))) == BOUNDARY
    assert date_of_day(range_start(date(2024, 6, 30))) == date(2024, 6, 30)


def _appid(db: Engine, account_id: int) -> str:
    with db.connect() as conn:
        return str(
            conn.execute(select(accounts.c.appid).where(accounts.c.id == account_id)).scalar()
        )


def _snapshot(engine: Engine) -> list[Any]:
    tables = (stats_users, stats_account_blocks, stats_channel_blocks)
    with engine.connect() as conn:
        return [sorted(tuple(r) for r in conn.execute(select(t))) for t in tables]


def _answers(stats: StatsService, account_id: int, window: Window) -> list[Any]:
    return [
        stats.summary(account_id, window).as_dict(),
        [r.metrics.as_dict() for r in stats.per_channel(account_id, window)],
        [(g.group, g.metrics.as_dict()) for g in stats.per_group(account_id, window)],
        [p.metrics.as_dict() for p in stats.series(account_id, window, "day")],
    ]


def _scans_on(db: Engine, day: int) -> int:
    with db.connect() as conn:
        a = stats_account_blocks
        return int(
            conn.execute(select(a.c.scans).where(a.c.level == 0, a.c.block == day)).scalar() or 0
        )


def _corrupt(db: Engine, day: int, scans: int) -> None:
    with db.begin() as conn:
        a = stats_account_blocks
        conn.execute(update(a).where(a.c.level == 0, a.c.block == day).values(scans=scans))


def test_days_before_the_range_are_kept_and_the_range_is_rebuilt_exactly(db: Engine) -> None:
    log = LogWriter(db)
    log.channel("A", "shops")
    log.channel("B", "shops")
    log.event("subscribe_scan", "u1", "2024-04-20 10:00", "A")  # before the range
    log.event("scan", "u1", "2024-04-21 10:00", "B")
    log.event("subscribe_scan", "u2", "2024-04-29 10:00", "B")  # in the range
    log.event("scan", "u1", "2024-04-30 10:00", "A")
    log.event("unsubscribe", "u1", "2024-05-01 10:00")
    log.event("subscribe_scan", "u1", "2024-05-02 10:00", "B")  # returning
    stats = StatsService(db)
    assert stats.rollups is not None
    window = stats.window(log.account_id, date(2024, 4, 20), date(2024, 5, 3))
    expected = _answers(StatsService(db, rollups=False), log.account_id, window)
    assert _answers(stats, log.account_id, window) == expected  # folded
    whole = _snapshot(db)
    before_day, in_day = 19833, 19842  # 2024-04-20 and 2024-04-29
    _corrupt(db, before_day, 99)
    _corrupt(db, in_day, 77)
    # A late follow of u2 before the range, still queued: it stays queued and is folded
    # after the rebuild (u2's first follow moves before the range; 2024-04-29 is returning).
    log.event("subscribe_scan", "u2", "2024-04-22 10:00", "A")
    [done] = stats.rollups.rebuild(_appid(db, log.account_id), since=date(2024, 5, 2))
    assert done.events == 4  # only the events from 2024-04-27 were read
    assert _scans_on(db, before_day) == 99  # kept: not part of the range
    assert _scans_on(db, in_day) == 1  # rebuilt
    with db.connect() as conn:
        assert conn.execute(select(stats_pending)).first() is None  # the late one folded
    _corrupt(db, before_day, 1)
    expected = _answers(StatsService(db, rollups=False), log.account_id, window)
    assert expected[0]["new_followers"] == 2
    assert expected[0]["returning_followers"] == 2
    assert _answers(stats, log.account_id, window) == expected
    partial = _snapshot(db)
    assert partial != whole
    stats.rollups.rebuild(_appid(db, log.account_id), since=date(2024, 4, 27))  # idempotent
    assert _snapshot(db) == partial
    stats.rollups.rebuild(_appid(db, log.account_id))
    assert _snapshot(db) == partial  # equals a whole rebuild


def test_an_unbuilt_account_is_rebuilt_whole(db: Engine) -> None:
    log = LogWriter(db)
    log.channel("A")
    log.event("subscribe_scan", "u1", "2024-04-20 10:00", "A")
    log.event("scan", "u1", "2024-05-02 10:00", "A")
    stats = StatsService(db)
    assert stats.rollups is not None
    with db.begin() as conn:  # the zone changed: the rollups are unusable
        conn.execute(update(accounts).values(timezone="UTC"))
    [done] = stats.rollups.rebuild(_appid(db, log.account_id), since=date(2024, 5, 2))
    assert done.events == 2


SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@SETTINGS
@given(world=worlds(), data=st.data())
def test_partial_rebuilds_at_any_point_match_the_log(
    engine: Engine, world: World, data: st.DataObject
) -> None:
    """Events arrive one by one (late, out of order); between arrivals the queue is folded
    or an account rebuilt from a drawn date, at random points."""
    service = StatsService(engine)
    rollups = service.rollups
    assert rollups is not None
    steps = data.draw(
        st.lists(st.sampled_from(["none", "none", "fold", "from"]), min_size=60),
        label="between arrivals",
    )
    offsets = data.draw(st.lists(st.integers(-70, 70), min_size=60), label="since offsets")

    def between(index: int) -> None:
        step = steps[index % len(steps)]
        if step == "fold":
            rollups.fold(limit=3)
        elif step == "from":
            since = date.fromordinal(date(2024, 3, 8).toordinal() + offsets[index % len(offsets)])
            rollups.rebuild(world.accounts[index % len(world.accounts)].appid, since=since)

    load(engine, world, after_arrival=between)
    reference = StatsService(engine, rollups=False)
    for account in world.accounts:
        window = Window.from_dates(date(2024, 3, 6), date(2024, 4, 30), account.timezone)
        assert _answers(service, account.id, window) == _answers(reference, account.id, window)
