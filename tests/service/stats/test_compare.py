"""Comparisons (docs/metrics.md, "Comparisons"): the base windows, the change per metric,
and every answer of a comparing query beside the same answer over its base window."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine

from wxqr.service.stats import (
    METRIC_NAMES,
    Align,
    Change,
    CompareMode,
    InvalidWindow,
    Metrics,
    StatsError,
    StatsService,
)
from wxqr.service.stats._compare import WEEKDAY_YEAR_DAYS, base_dates

from ._log import LogWriter

counts = st.integers(0, 10_000)


@st.composite
def metrics(draw: st.DrawFn) -> Metrics:
    return Metrics.of(
        scans=draw(counts),
        unique_scanners=draw(counts),
        new_followers=draw(counts),
        returning_followers=draw(counts),
        unfollows=draw(counts),
    )


@given(metrics(), metrics())
def test_change_is_current_minus_base_and_percent_null_iff_base_zero(
    current: Metrics, base: Metrics
) -> None:
    change = Change.of(current, base)
    assert change.base == base
    for name in METRIC_NAMES:
        now, before = current.value(name), base.value(name)
        assert change.absolute[name] == now - before
        percent = change.percent[name]
        assert (percent is None) == (before == 0)
        if percent is not None:
            assert percent == pytest.approx((now - before) * 100 / abs(before), abs=0.005)
            # The sign says which way it went, even from a negative net_followers.
            assert (percent > 0) == (now > before) or percent == 0


days = st.dates(min_value=date(1972, 1, 1), max_value=date(2200, 12, 31))


@given(days, st.integers(0, 400))
def test_previous_period_is_as_long_and_right_before(start: date, length: int) -> None:
    end = start + timedelta(days=length)
    base_from, base_to = base_dates(CompareMode.PREVIOUS_PERIOD, start, end)
    assert base_to == start - timedelta(days=1)
    assert (base_to - base_from).days == (end - start).days


@given(days, st.integers(0, 400))
def test_previous_year_by_weekday_is_364_days_earlier_on_the_same_weekday(
    start: date, length: int
) -> None:
    end = start + timedelta(days=length)
    base_from, base_to = base_dates(CompareMode.PREVIOUS_YEAR, start, end, Align.WEEKDAY)
    assert (start - base_from).days == WEEKDAY_YEAR_DAYS
    assert base_from.weekday() == start.weekday()
    assert (base_to - base_from).days == (end - start).days


@given(days, st.integers(0, 400))
def test_previous_year_by_date_is_the_same_dates_a_year_earlier(start: date, length: int) -> None:
    end = start + timedelta(days=length)
    base_from, base_to = base_dates(CompareMode.PREVIOUS_YEAR, start, end)
    for now, before in ((start, base_from), (end, base_to)):
        assert before.year == now.year - 1
        assert before.month == now.month
        assert before.day == (28 if (now.month, now.day) == (2, 29) else now.day)


def test_align_weekday_goes_with_previous_year_only() -> None:
    with pytest.raises(InvalidWindow, match="previous_year"):
        base_dates(CompareMode.PREVIOUS_PERIOD, date(2024, 5, 1), date(2024, 5, 2), Align.WEEKDAY)


def _world(db: Engine) -> tuple[LogWriter, dict[str, int]]:
    log = LogWriter(db)
    ids = {
        "A": log.channel("A", "loud"),
        "B": log.channel("B", "quiet"),
        "C": log.channel("C", "quiet"),
    }
    # The base window (previous period of May 8-14 is May 1-7).
    log.event("subscribe_scan", "u1", "2024-05-02 10:00", "A")
    log.event("subscribe_scan", "u2", "2024-05-03 10:00", "A")
    log.event("scan", "u1", "2024-05-03 11:00", "B")
    # The current window, May 8-14.
    log.event("subscribe_scan", "u3", "2024-05-08 10:00", "A")
    log.event("subscribe_scan", "u4", "2024-05-09 10:00", "B")
    log.event("scan", "u4", "2024-05-09 11:00", "B")
    log.event("scan", "u1", "2024-05-10 11:00", "C")
    log.event("unsubscribe", "u1", "2024-05-11 09:00")
    # A year earlier (by weekday: 2023-05-10 … 2023-05-16; by date: 2023-05-08 … 14).
    log.event("scan", "u9", "2023-05-09 10:00", "B")
    log.event("scan", "u9", "2023-05-15 10:00", "B")
    return log, ids


def test_every_answer_is_beside_the_same_answer_over_the_base_window(db: Engine) -> None:
    log, ids = _world(db)
    stats = StatsService(db)
    query = stats.query(
        log.account_id,
        date_from=date(2024, 5, 8),
        date_to=date(2024, 5, 14),
        compare="previous_period",
    )
    assert query.compare is not None
    assert (query.compare.date_from, query.compare.date_to) == (date(2024, 5, 1), date(2024, 5, 7))
    base = stats.query(log.account_id, date_from=date(2024, 5, 1), date_to=date(2024, 5, 7))

    summary = stats.compared_summary_of(query)
    assert summary.value == stats.summary_of(query)
    assert summary.change is not None
    assert summary.change.base == stats.summary_of(base)
    assert summary.change.absolute["scans"] == 4 - 3
    assert summary.change.percent["scans"] == pytest.approx(33.33)
    assert summary.change.percent["unfollows"] is None  # nothing to compare with

    channels = {row.value.channel.id: row for row in stats.compared_channels_of(query)}
    before = {row.channel.id: row.metrics for row in stats.channels_of(base)}
    for channel_id, row in channels.items():
        assert row.change is not None
        assert row.change.base == before[channel_id]
    assert channels[ids["A"]].change.absolute["new_followers"] == 1 - 2  # type: ignore[union-attr]
    assert channels[ids["C"]].change.percent["scans"] is None  # type: ignore[union-attr]

    groups = {row.value.group: row for row in stats.compared_groups_of(query)}
    assert groups["quiet"].change is not None
    assert groups["quiet"].change.base.scans == 1
    assert groups["quiet"].value.metrics.scans == 3

    points = stats.compared_series_of(query)
    base_points = stats.series_of(base)
    assert len(points) == len(base_points) == 7
    for point, base_point in zip(points, base_points, strict=True):
        assert point.change is not None
        assert point.change.base == base_point.metrics
        assert (point.change.base_start, point.change.base_end) == (
            base_point.start,
            base_point.end,
        )


def test_previous_year_by_weekday_and_an_explicit_window(db: Engine) -> None:
    log, ids = _world(db)
    stats = StatsService(db)
    dates = {"date_from": date(2024, 5, 8), "date_to": date(2024, 5, 14)}
    weekday = stats.query(
        log.account_id, **dates, channels=[ids["B"]], compare="previous_year", align="weekday"
    )
    assert weekday.compare is not None
    assert weekday.compare.date_from == date(2023, 5, 10)  # a Wednesday, as 2024-05-08
    change = stats.compared_summary_of(weekday).change
    assert change is not None
    assert change.base.scans == 1
    by_date = stats.query(log.account_id, **dates, channels=[ids["B"]], compare="previous_year")
    change = stats.compared_summary_of(by_date).change
    assert change is not None
    assert change.base.scans == 1
    explicit = stats.query(
        log.account_id,
        **dates,
        channels=[ids["B"]],
        compare_from=date(2023, 5, 1),
        compare_to=date(2023, 5, 31),
    )
    assert explicit.compare is not None
    assert explicit.compare.mode is CompareMode.CUSTOM
    change = stats.compared_summary_of(explicit).change
    assert change is not None
    assert change.base.scans == 2


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"compare": "last_week"}, "compare"),
        ({"align": "weekday"}, "align"),
        ({"compare": "previous_period", "align": "weekday"}, "align"),
        ({"compare_from": date(2024, 4, 1)}, "compare_to"),
        ({"compare_to": date(2024, 4, 1)}, "compare_from"),
        (
            {
                "compare": "previous_year",
                "compare_from": date(2024, 4, 1),
                "compare_to": date(2024, 4, 2),
            },
            "compare",
        ),
        ({"compare_from": date(2024, 4, 2), "compare_to": date(2024, 4, 1)}, "compare_from"),
        ({"split": "channels"}, "split"),
    ],
)
def test_bad_comparisons_are_refused_naming_the_field(
    db: Engine, kwargs: dict[str, object], field: str
) -> None:
    log, _ = _world(db)
    with pytest.raises(StatsError) as refused:
        StatsService(db).query(log.account_id, **kwargs)  # type: ignore[arg-type]
    assert refused.value.field == field


def test_a_query_without_compare_has_no_change(db: Engine) -> None:
    log, _ = _world(db)
    stats = StatsService(db)
    query = stats.query(log.account_id, date_from=date(2024, 5, 8), date_to=date(2024, 5, 14))
    assert query.compare is None
    assert query.head()["comparison"] is None
    assert stats.compared_summary_of(query).change is None
    assert all(row.change is None for row in stats.compared_channels_of(query))
    assert all(point.change is None for point in stats.compared_series_of(query))


def test_a_shorter_base_series_leaves_the_extra_points_uncompared(db: Engine) -> None:
    log, _ = _world(db)
    stats = StatsService(db)
    # March and April by month against January alone: one base bucket for two.
    query = stats.query(
        log.account_id,
        date_from=date(2024, 3, 1),
        date_to=date(2024, 4, 30),
        granularity="month",
        compare_from=date(2024, 1, 1),
        compare_to=date(2024, 1, 31),
    )
    points = stats.compared_series_of(query)
    assert len(points) == 2
    assert points[0].change is not None
    assert points[1].change is None
