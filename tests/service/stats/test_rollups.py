"""The rollups: folds and rebuilds at any point give the reference answers, whatever the
arrival order; rebuilds are idempotent; zone changes and channel deletions are followed.

Runs on SQLite, and on PostgreSQL when it is configured.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, delete, select, update

from wxqr.service.stats import Attribution, StatsService, Window
from wxqr.service.stats._rollup_read import day_span
from wxqr.store.tables import (
    accounts,
    channels,
    stats_account_blocks,
    stats_channel_blocks,
    stats_pending,
    stats_users,
)

from . import _reference as ref
from ._log import LogWriter
from ._world import BASE_TIME, World, load, worlds

SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _served_by_rollups(engine: Engine, account_id: int, window: Window) -> bool:
    with engine.connect() as conn:
        return day_span(conn, account_id, window) is not None


def _check(engine: Engine, service: StatsService, world: World, data: st.DataObject) -> None:
    for account in world.accounts:
        zone = ZoneInfo(account.timezone)
        first = datetime.fromtimestamp(BASE_TIME, zone).date() - timedelta(days=1)
        start = first + timedelta(days=data.draw(st.integers(0, 8), label="first day"))
        end = start + timedelta(days=data.draw(st.integers(0, 40), label="days"))
        window = Window.from_dates(start, end, account.timezone)
        lo, hi = window.start_s, window.end_s
        log, mine = world.events, [c.id for c in world.channels if c.account_id == account.id]
        assert service.summary(account.id, window).as_dict() == ref.metrics(
            log, account.id, lo, hi, None
        )
        assert _served_by_rollups(engine, account.id, window)
        for model in Attribution:
            for row in service.per_channel(account.id, window, attribution=model):
                expected = ref.metrics(log, account.id, lo, hi, {row.channel.id}, model)
                assert row.metrics.as_dict() == expected, (row.channel, model)
                assert row.metrics.conversion() == ref.conversion(
                    log, account.id, lo, hi, {row.channel.id}
                )
            for group in service.per_group(account.id, window, attribution=model):
                members = {c.id for c in world.channels if c.id in mine and c.group == group.group}
                expected = ref.metrics(log, account.id, lo, hi, members, model)
                assert group.metrics.as_dict() == expected, (group.group, model)
        unit = data.draw(st.sampled_from(["day", "week", "month"]), label="unit")
        scope = data.draw(st.one_of(st.none(), st.sets(st.sampled_from(mine), min_size=1)))
        model = data.draw(st.sampled_from(list(Attribution)), label="attribution")
        points = service.series(account.id, window, unit, channel_ids=scope, attribution=model)
        expected_series = ref.series(log, account.id, lo, hi, scope, zone, unit, model)
        assert [p.metrics.as_dict() for p in points] == [v for _lo, _hi, v in expected_series]
        expected_rate = ref.conversion(log, account.id, lo, hi, scope)
        total = service.summary(account.id, window, channel_ids=scope)
        assert total.conversion() == expected_rate


@SETTINGS
@given(world=worlds(), data=st.data())
def test_folds_and_rebuilds_at_any_point_match_the_reference(
    engine: Engine, world: World, data: st.DataObject
) -> None:
    """Events arrive one by one (late and out of order); between arrivals the queue is
    partly folded, or an account rebuilt, at random points."""
    service = StatsService(engine)
    rollups = service.rollups
    assert rollups is not None
    steps = data.draw(
        st.lists(st.sampled_from(["none", "none", "fold", "fold-1", "rebuild"]), min_size=80),
        label="between arrivals",
    )

    def between(index: int) -> None:
        step = steps[index % len(steps)]
        if step == "fold":
            rollups.fold()
        elif step == "fold-1":
            rollups.fold(limit=1)
        elif step == "rebuild":
            rollups.rebuild(world.accounts[index % len(world.accounts)].appid)

    load(engine, world, after_arrival=between)
    _check(engine, service, world, data)


def _snapshot(engine: Engine) -> list[Any]:
    tables = (stats_users, stats_account_blocks, stats_channel_blocks)
    with engine.connect() as conn:
        return [sorted(tuple(r) for r in conn.execute(select(t))) for t in tables]


def _demo(db: Engine, tz: str | None = None) -> tuple[LogWriter, int, int]:
    log = LogWriter(db, tz=tz)
    a = log.channel("A", "shops")
    b = log.channel("B", "shops")
    log.event("subscribe_scan", "u1", "2024-05-01 10:00", "A")
    log.event("scan", "u1", "2024-05-02 09:00", "B")
    log.event("subscribe", "u2", "2024-05-02 09:30")
    log.event("unsubscribe", "u1", "2024-05-02 10:00")
    log.event("subscribe_scan", "u1", "2024-05-02 11:00", "B")
    log.event("subscribe_scan", "u3", "2024-05-02 23:30", "B")
    log.event("scan", "u3", "2024-05-03 08:00", "B")
    log.event("subscribe_scan", "u4", "2024-05-03 09:00", "x")
    log.event("scan", "u2", "2024-05-03 10:00", "A")
    return log, a, b


def _answers(stats: StatsService, account_id: int, window: Window) -> list[Any]:
    return [
        stats.summary(account_id, window).as_dict(),
        [r.metrics.as_dict() for r in stats.per_channel(account_id, window)],
        [(g.group, g.metrics.as_dict()) for g in stats.per_group(account_id, window)],
        [p.metrics.as_dict() for p in stats.series(account_id, window, "day")],
    ]


def test_rebuild_is_idempotent_and_equals_the_folded_rollups(db: Engine) -> None:
    log, _a, _b = _demo(db)
    stats = StatsService(db)
    window = stats.window(log.account_id, date(2024, 5, 1), date(2024, 5, 3))
    folded = _answers(stats, log.account_id, window)
    assert _served_by_rollups(db, log.account_id, window)
    before = _snapshot(db)
    assert stats.rollups is not None
    [done] = stats.rollups.rebuild(log_appid(db, log.account_id))
    assert done.events == 9
    assert _snapshot(db) == before
    stats.rollups.rebuild()
    assert _snapshot(db) == before
    assert _answers(stats, log.account_id, window) == folded
    assert folded == _answers(StatsService(db, rollups=False), log.account_id, window)


def log_appid(db: Engine, account_id: int) -> str:
    with db.connect() as conn:
        return str(
            conn.execute(select(accounts.c.appid).where(accounts.c.id == account_id)).scalar()
        )


def test_a_new_push_is_in_the_next_answer(db: Engine) -> None:
    log, a, _b = _demo(db)
    stats = StatsService(db)
    window = stats.window(log.account_id, date(2024, 5, 1), date(2024, 5, 3))
    before = stats.summary(log.account_id, window, channel_ids=[a])
    log.event("scan", "u9", "2024-05-03 11:00", "A")
    after = stats.summary(log.account_id, window, channel_ids=[a])
    assert (after.scans, after.unique_scanners) == (before.scans + 1, before.unique_scanners + 1)
    with db.connect() as conn:
        assert conn.execute(select(stats_pending)).first() is None


def test_a_zone_change_falls_back_to_the_log_then_rebuilds(db: Engine) -> None:
    log, _a, _b = _demo(db)
    stats = StatsService(db)
    first = stats.window(log.account_id, date(2024, 5, 2), date(2024, 5, 2))
    stats.summary(log.account_id, first)  # folds the queue
    assert _served_by_rollups(db, log.account_id, first)
    with db.begin() as conn:
        conn.execute(update(accounts).where(accounts.c.id == log.account_id).values(timezone="UTC"))
    window = stats.window(log.account_id, date(2024, 5, 1), date(2024, 5, 3))
    expected = _answers(StatsService(db, rollups=False), log.account_id, window)
    assert _answers(stats, log.account_id, window) == expected  # from the log meanwhile
    assert not _served_by_rollups(db, log.account_id, window)
    assert stats.rollups is not None
    assert stats.rollups.build_missing() >= 1
    assert _served_by_rollups(db, log.account_id, window)
    assert _answers(stats, log.account_id, window) == expected


def test_a_deleted_channel_leaves_the_rollups_with_its_events(db: Engine) -> None:
    log, a, b = _demo(db)
    stats = StatsService(db)
    window = stats.window(log.account_id, date(2024, 5, 1), date(2024, 5, 3))
    _answers(stats, log.account_id, window)  # folded
    with db.begin() as conn:
        conn.execute(delete(channels).where(channels.c.id == a))
    log.event("subscribe_scan", "u5", "2024-05-03 12:00", "B")
    answers = _answers(stats, log.account_id, window)
    assert answers == _answers(StatsService(db, rollups=False), log.account_id, window)
    assert [row.channel.id for row in stats.per_channel(log.account_id, window)] == [b]


def test_folding_while_events_arrive_concurrently_loses_nothing(db: Engine) -> None:
    """Writers commit events (out of CreateTime order) while a folder folds in a loop: at
    the end the rollups answer exactly what the log does."""
    import random
    import threading

    log, a, b = _demo(db)
    stats = StatsService(db)
    assert stats.rollups is not None
    rollups = stats.rollups
    window = stats.window(log.account_id, date(2024, 5, 1), date(2024, 5, 9))
    stop = threading.Event()
    errors: list[BaseException] = []

    def fold() -> None:
        while not stop.is_set():
            try:
                rollups.fold(limit=7)
            except Exception as exc:  # SQLite: a busy write lock; tried again
                if "locked" not in str(exc):
                    errors.append(exc)

    def write(seed: int) -> None:
        rng = random.Random(seed)
        for _ in range(40):
            kind = rng.choice(["scan", "subscribe_scan", "subscribe", "unsubscribe"])
            when = f"2024-05-0{rng.randint(1, 8)} {rng.randint(10, 22)}:{rng.randint(10, 59)}"
            scene = rng.choice(["A", "B", "x"]) if "scan" in kind else None
            try:
                log.event(kind, f"w{rng.randint(1, 12)}", when, scene)
            except Exception as exc:
                if "locked" not in str(exc):
                    errors.append(exc)

    folder = threading.Thread(target=fold)
    writers = [threading.Thread(target=write, args=(seed,)) for seed in range(3)]
    folder.start()
    for thread in writers:
        thread.start()
    for thread in writers:
        thread.join()
    stop.set()
    folder.join()
    assert errors == []
    assert _answers(stats, log.account_id, window) == _answers(
        StatsService(db, rollups=False), log.account_id, window
    )
    assert _served_by_rollups(db, log.account_id, window)
    del a, b
