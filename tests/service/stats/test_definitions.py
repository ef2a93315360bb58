"""docs/metrics.md, rule by rule: the worked example and each edge case it lists."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Engine

from wxqr.service.errors import InvalidInputError
from wxqr.service.stats import (
    METRIC_NAMES,
    InvalidWindow,
    Metrics,
    StatsService,
    UnknownAccount,
    UnknownChannel,
    Window,
)

from ._log import LogWriter


def _m(scans: int, unique: int, new: int, returning: int, unfollows: int) -> dict[str, int]:
    return Metrics.of(
        scans=scans,
        unique_scanners=unique,
        new_followers=new,
        returning_followers=returning,
        unfollows=unfollows,
    ).as_dict()


def test_the_worked_example_of_the_docs(db: Engine) -> None:
    log = LogWriter(db)
    a = log.channel("A", "shops")
    b = log.channel("B", "shops")
    log.event("subscribe_scan", "u1", "2024-05-01 10:00", "A")
    log.event("scan", "u1", "2024-05-02 09:00", "B")
    log.event("subscribe", "u2", "2024-05-02 09:30")
    log.event("unsubscribe", "u1", "2024-05-02 10:00")
    log.event("subscribe_scan", "u1", "2024-05-02 11:00", "B")
    log.event("subscribe_scan", "u3", "2024-05-02 12:00", "B")
    log.event("scan", "u3", "2024-05-03 08:00", "B")
    log.event("subscribe_scan", "u4", "2024-05-03 09:00", "x")
    log.event("scan", "u2", "2024-05-03 10:00", "A")
    stats = StatsService(db)
    window = stats.window(log.account_id, date(2024, 5, 2), date(2024, 5, 3))

    assert stats.summary(log.account_id, window, channel_ids=[a]).as_dict() == _m(1, 1, 0, 0, 1)
    assert stats.summary(log.account_id, window, channel_ids=[b]).as_dict() == _m(4, 2, 1, 1, 0)
    assert stats.summary(log.account_id, window, group="shops").as_dict() == _m(5, 3, 1, 1, 1)
    assert stats.summary(log.account_id, window).as_dict() == _m(6, 4, 3, 1, 1)
    assert [row.metrics.as_dict() for row in stats.per_channel(log.account_id, window)] == [
        _m(1, 1, 0, 0, 1),
        _m(4, 2, 1, 1, 0),
    ]
    [group] = stats.per_group(log.account_id, window)
    assert (group.group, group.channel_count, group.metrics.as_dict()) == (
        "shops",
        2,
        _m(5, 3, 1, 1, 1),
    )
    [orphan] = stats.orphan_scans(log.account_id, window)
    assert (orphan.scene, orphan.scans, orphan.unique_scanners, orphan.follows) == ("x", 1, 1, 1)
    assert orphan.first_seen.isoformat() == "2024-05-03T09:00:00+08:00"
    days = stats.series(log.account_id, window, "day")
    assert [(p.start.isoformat(), p.metrics.as_dict()) for p in days] == [
        ("2024-05-02T00:00:00+08:00", _m(3, 2, 2, 1, 1)),
        ("2024-05-03T00:00:00+08:00", _m(3, 3, 1, 0, 0)),
    ]
    top = stats.top_channels(log.account_id, window, by="scans")
    assert [row.channel.name for row in top] == ["B", "A"]
    assert [
        r.channel.name for r in stats.top_channels(log.account_id, window, by="new_followers")
    ] == ["B"]


def test_follows_in_one_second_are_ordered_by_log_id(db: Engine) -> None:
    log = LogWriter(db)
    a = log.channel("A")
    log.event("subscribe", "u1", "2024-05-02 09:00:00")
    log.event("subscribe_scan", "u1", "2024-05-02 09:00:00", "A")  # same second, stored after
    log.event("subscribe_scan", "u2", "2024-05-02 09:00:00", "A")
    log.event("subscribe", "u2", "2024-05-02 09:00:00")  # same second, stored after
    stats = StatsService(db)
    window = stats.window(log.account_id, date(2024, 5, 2), date(2024, 5, 2))
    assert stats.summary(log.account_id, window, channel_ids=[a]).as_dict() == _m(2, 2, 1, 1, 0)
    assert stats.summary(log.account_id, window).as_dict() == _m(2, 2, 2, 2, 0)


def test_create_time_orders_pushes_that_arrive_late(db: Engine) -> None:
    log = LogWriter(db)
    a = log.channel("A")
    b = log.channel("B")
    log.event("subscribe_scan", "u1", "2024-05-02 10:00", "B")  # stored first …
    log.event("subscribe_scan", "u1", "2024-05-02 09:00", "A")  # … but happened earlier
    stats = StatsService(db)
    window = stats.window(log.account_id, date(2024, 5, 2), date(2024, 5, 2))
    assert stats.summary(log.account_id, window, channel_ids=[a]).new_followers == 1
    assert stats.summary(log.account_id, window, channel_ids=[b]).returning_followers == 1


def test_history_before_the_window_makes_a_follow_returning(db: Engine) -> None:
    log = LogWriter(db)
    a = log.channel("A")
    b = log.channel("B")
    log.event("subscribe", "u1", "2023-01-01 10:00")  # plain follow, long ago
    log.event("unsubscribe", "u1", "2023-02-01 10:00")
    log.event("subscribe_scan", "u2", "2024-04-30 23:59:59", "A")
    log.event("unsubscribe", "u2", "2024-05-01 00:00:00")  # first touch A, in the window
    log.event("subscribe_scan", "u1", "2024-05-01 12:00", "B")
    log.event("subscribe_scan", "u2", "2024-05-01 13:00", "B")
    log.event("unsubscribe", "u2", "2024-05-01 14:00")  # first touch still A
    stats = StatsService(db)
    window = stats.window(log.account_id, date(2024, 5, 1), date(2024, 5, 1))
    assert stats.summary(log.account_id, window, channel_ids=[a]).as_dict() == _m(0, 0, 0, 0, 2)
    assert stats.summary(log.account_id, window, channel_ids=[b]).as_dict() == _m(2, 2, 0, 2, 0)
    assert stats.summary(log.account_id, window).as_dict() == _m(2, 2, 0, 2, 2)


def test_unfollow_first_then_follow_is_new_and_unfollow_of_unknown_is_no_channel(
    db: Engine,
) -> None:
    log = LogWriter(db)
    a = log.channel("A")
    log.event("unsubscribe", "u1", "2024-05-01 08:00")  # followed before wxqr existed
    log.event("subscribe_scan", "u1", "2024-05-01 09:00", "A")
    stats = StatsService(db)
    window = stats.window(log.account_id, date(2024, 5, 1), date(2024, 5, 1))
    assert stats.summary(log.account_id, window, channel_ids=[a]).as_dict() == _m(1, 1, 1, 0, 0)
    assert stats.summary(log.account_id, window).as_dict() == _m(1, 1, 1, 0, 1)


def test_unique_scanners_are_exact_over_the_window_not_a_sum(db: Engine) -> None:
    log = LogWriter(db)
    a = log.channel("A", "g")
    b = log.channel("B", "g")
    for day in ("2024-05-01", "2024-05-02", "2024-05-03"):
        log.event("scan", "u1", f"{day} 10:00", "A")
        log.event("scan", "u1", f"{day} 11:00", "B")
    stats = StatsService(db)
    window = stats.window(log.account_id, date(2024, 5, 1), date(2024, 5, 3))
    assert stats.summary(log.account_id, window, group="g").unique_scanners == 1
    assert stats.summary(log.account_id, window, channel_ids=[a, b]).scans == 6
    days = stats.series(log.account_id, window, "day", group="g")
    assert [p.metrics.unique_scanners for p in days] == [1, 1, 1]
    [week] = stats.series(log.account_id, window, "week", group="g")
    assert (week.metrics.scans, week.metrics.unique_scanners) == (6, 1)


def test_window_is_half_open_on_create_time(db: Engine) -> None:
    log = LogWriter(db)
    log.channel("A")
    log.event("scan", "u1", "2024-05-01 00:00:00", "A")
    log.event("scan", "u2", "2024-05-01 23:59:59", "A")
    log.event("scan", "u3", "2024-05-02 00:00:00", "A")
    stats = StatsService(db)
    shanghai = "Asia/Shanghai"
    window = Window.from_dates(date(2024, 5, 1), date(2024, 5, 1), shanghai)
    assert stats.summary(log.account_id, window).scans == 2
    start = datetime(2024, 4, 30, 16, 0, 0, 1, tzinfo=UTC)  # 1 µs after u1's scan
    end = datetime(2024, 5, 1, 16, 0, 0, 1, tzinfo=UTC)  # 1 µs after u3's scan
    assert stats.summary(log.account_id, Window(start, end)).scans == 2  # u2, u3


def test_series_are_zero_filled_in_the_account_zone_or_the_window_zone(db: Engine) -> None:
    log = LogWriter(db, tz="America/New_York")
    log.channel("A")
    log.event("scan", "u1", "2024-03-10 12:00", "A")  # DST starts that morning
    stats = StatsService(db)
    window = stats.window(log.account_id, date(2024, 3, 9), date(2024, 3, 11))
    days = stats.series(log.account_id, window, "day")
    assert [p.start.isoformat() for p in days] == [
        "2024-03-09T00:00:00-05:00",
        "2024-03-10T00:00:00-05:00",
        "2024-03-11T00:00:00-04:00",
    ]
    assert [int(p.end.timestamp() - p.start.timestamp()) // 3600 for p in days] == [24, 23, 24]
    assert [p.metrics.scans for p in days] == [0, 1, 0]
    in_shanghai = Window(window.start, window.end, "Asia/Shanghai")
    shanghai_days = stats.series(log.account_id, in_shanghai, "day")
    assert shanghai_days[0].start.isoformat() == "2024-03-09T00:00:00+08:00"
    assert sum(p.metrics.scans for p in shanghai_days) == 1


def test_bad_input_is_refused_clearly(db: Engine) -> None:
    log = LogWriter(db)
    a = log.channel("A")
    other = LogWriter(db, appid="wxother0000000000")
    b = other.channel("B")
    stats = StatsService(db)
    window = stats.window(log.account_id, date(2024, 5, 1), date(2024, 5, 1))
    with pytest.raises(UnknownChannel, match=f"no channel with id {b}"):
        stats.summary(log.account_id, window, channel_ids=[a, b])
    with pytest.raises(UnknownChannel, match="no channel in group 'nope'"):
        stats.summary(log.account_id, window, group="nope")
    with pytest.raises(UnknownAccount, match="no account with id 999"):
        stats.summary(999, window)
    with pytest.raises(InvalidWindow, match="unknown granularity 'decade'"):
        stats.series(log.account_id, window, "decade")
    with pytest.raises(InvalidWindow, match="unknown metric 'clicks'"):
        stats.top_channels(log.account_id, window, by="clicks")
    assert stats.summary(log.account_id, window, channel_ids=[]) == Metrics.zero()
    assert stats.resolve_channel(log.account_id, "A").id == a
    assert stats.resolve_channel(log.account_id, str(a)).id == a
    with pytest.raises(UnknownChannel):
        stats.resolve_channel(log.account_id, str(b))  # another account's
    assert stats.account_by_appid("wxother0000000000").id == other.account_id
    with pytest.raises(InvalidInputError, match="several accounts"):
        stats.default_account()


def test_window_validation() -> None:
    naive = datetime(2024, 5, 1)
    aware = datetime(2024, 5, 1, tzinfo=UTC)
    with pytest.raises(InvalidWindow, match="timezone-aware"):
        Window(naive, aware)
    with pytest.raises(InvalidWindow, match="before its end"):
        Window(aware, aware)
    with pytest.raises(InvalidWindow, match="after to date"):
        Window.from_dates(date(2024, 5, 2), date(2024, 5, 1), "Asia/Shanghai")
    with pytest.raises(InvalidWindow, match="unknown time zone 'Mars/Base'"):
        Window.from_dates(date(2024, 5, 1), date(2024, 5, 1), "Mars/Base")
    window = Window.from_dates(date(2024, 5, 1), date(2024, 5, 31), "Asia/Shanghai")
    assert window.start.isoformat() == "2024-05-01T00:00:00+08:00"
    assert window.end.isoformat() == "2024-06-01T00:00:00+08:00"


def test_metrics_value_has_exactly_the_six_names() -> None:
    metrics = Metrics.of(
        scans=5, unique_scanners=3, new_followers=2, returning_followers=1, unfollows=4
    )
    assert (
        tuple(metrics.as_dict())
        == METRIC_NAMES
        == (
            "scans",
            "unique_scanners",
            "new_followers",
            "returning_followers",
            "unfollows",
            "net_followers",
        )
    )
    assert metrics.net_followers == -1
    with pytest.raises(ValueError, match="net_followers"):
        Metrics(1, 1, 1, 0, 0, 5)


def test_the_package_exports_exactly_its_public_names() -> None:
    import inspect

    import wxqr.service.stats as stats

    public = {
        name
        for name, value in vars(stats).items()
        if not name.startswith("_") and not inspect.ismodule(value) and name != "annotations"
    }
    assert set(stats.__all__) == public
