"""The overview's use case: date presets in the account's zone, the previous period, KPIs
against it, the trend, top channels and orphans (docs/dashboard.md)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import Engine

from wxqr.service.errors import InvalidInputError
from wxqr.service.overview import RangePreset, build_overview, preset_dates, previous_dates
from wxqr.service.stats import StatsService

from ._log import LogWriter

TODAY = date(2024, 5, 15)


@pytest.mark.parametrize(
    ("preset", "dates", "previous"),
    [
        (RangePreset.TODAY, (TODAY, TODAY), (date(2024, 5, 14), date(2024, 5, 14))),
        (RangePreset.YESTERDAY, (date(2024, 5, 14),) * 2, (date(2024, 5, 13),) * 2),
        (
            RangePreset.LAST_7_DAYS,
            (date(2024, 5, 9), TODAY),
            (date(2024, 5, 2), date(2024, 5, 8)),
        ),
        (
            RangePreset.LAST_30_DAYS,
            (date(2024, 4, 16), TODAY),
            (date(2024, 3, 17), date(2024, 4, 15)),
        ),
        (
            RangePreset.THIS_MONTH,
            (date(2024, 5, 1), TODAY),
            (date(2024, 4, 1), date(2024, 4, 15)),
        ),
        (
            RangePreset.LAST_MONTH,
            (date(2024, 4, 1), date(2024, 4, 30)),
            (date(2024, 3, 1), date(2024, 3, 31)),
        ),
    ],
)
def test_presets_and_their_previous_period(
    preset: RangePreset, dates: tuple[date, date], previous: tuple[date, date]
) -> None:
    assert preset_dates(preset, TODAY) == dates
    assert previous_dates(preset, *dates) == previous


def test_this_month_on_the_31st_compares_with_the_whole_shorter_month() -> None:
    start, end = preset_dates(RangePreset.THIS_MONTH, date(2024, 3, 31))
    assert previous_dates(RangePreset.THIS_MONTH, start, end) == (
        date(2024, 2, 1),
        date(2024, 2, 29),
    )


def test_a_custom_range_needs_dates() -> None:
    with pytest.raises(InvalidInputError):
        preset_dates(RangePreset.CUSTOM, TODAY)


def test_overview_against_the_previous_period(db: Engine) -> None:
    log = LogWriter(db)
    log.channel("A", "shops")
    log.channel("B", "shops")
    log.channel("C")
    # The day before yesterday: the previous period of "yesterday".
    log.event("subscribe_scan", "u1", "2024-05-13 10:00", "A")
    log.event("subscribe_scan", "u2", "2024-05-13 11:00", "A")
    # Yesterday.
    log.event("subscribe_scan", "u3", "2024-05-14 09:00", "B")
    log.event("scan", "u1", "2024-05-14 09:30", "B")
    log.event("scan", "u1", "2024-05-14 10:30", "B")
    log.event("scan", "u2", "2024-05-14 11:00", "A")
    log.event("unsubscribe", "u2", "2024-05-14 12:00")
    log.event("subscribe_scan", "u9", "2024-05-14 13:00", "nobody")  # an orphan scene
    stats = StatsService(db, clock=lambda: log.at("2024-05-15 08:00"))

    view = build_overview(stats, log.account_id, preset="yesterday", metric="scans", top=5)
    assert (view.query.date_from, view.query.date_to) == (date(2024, 5, 14),) * 2
    assert (view.previous.date_from, view.previous.date_to) == (date(2024, 5, 13),) * 2
    kpis = {k.metric: k for k in view.kpis}
    assert list(kpis) == ["scans", "unique_scanners", "new_followers", "unfollows", "net_followers"]
    assert (kpis["scans"].value, kpis["scans"].previous) == (5, 2)
    assert kpis["scans"].change == pytest.approx(1.5)
    assert (kpis["unfollows"].value, kpis["unfollows"].previous) == (1, 0)
    assert kpis["unfollows"].change is None  # against nothing: no ratio
    assert (kpis["new_followers"].value, kpis["new_followers"].previous) == (2, 2)
    assert kpis["new_followers"].change == 0
    assert [(r.channel.name, r.metrics.scans) for r in view.top] == [("B", 3), ("A", 1)]
    assert [o.scene for o in view.orphans] == ["nobody"]
    assert {g.group: g.metrics.scans for g in view.groups}["shops"] == 4
    assert [p.metrics.scans for p in view.series] == [5]
    assert [p.metrics.scans for p in view.previous_series] == [2]

    # Dates given make the range custom; the metric picks the top channels' order.
    custom = build_overview(
        stats,
        log.account_id,
        date_from=date(2024, 5, 13),
        date_to=date(2024, 5, 14),
        metric="new_followers",
    )
    assert custom.preset is RangePreset.CUSTOM
    assert (custom.previous.date_from, custom.previous.date_to) == (
        date(2024, 5, 11),
        date(2024, 5, 12),
    )
    assert [(r.channel.name, r.metrics.new_followers) for r in custom.top] == [("A", 2), ("B", 1)]


def test_overview_against_the_same_weekdays_last_year(db: Engine) -> None:
    log = LogWriter(db)
    log.channel("A")
    log.event("scan", "u1", "2023-05-08 10:00", "A")  # 364 days before 2024-05-06
    log.event("scan", "u1", "2023-05-09 10:00", "A")
    log.event("scan", "u2", "2024-05-06 10:00", "A")
    stats = StatsService(db)
    view = build_overview(
        stats,
        log.account_id,
        date_from=date(2024, 5, 6),
        date_to=date(2024, 5, 12),
        compare="previous_year",
    )
    assert view.compare == "previous_year"
    assert (view.previous.date_from, view.previous.date_to) == (
        date(2023, 5, 8),
        date(2023, 5, 14),
    )
    assert view.previous.date_from.weekday() == date(2024, 5, 6).weekday()
    kpis = {kpi.metric: kpi for kpi in view.kpis}
    assert (kpis["scans"].value, kpis["scans"].previous) == (1, 2)
    assert kpis["scans"].change == pytest.approx(-0.5)
    assert [p.metrics.scans for p in view.previous_series][:2] == [1, 1]
    assert view.previous_series[0].start.date() == date(2023, 5, 8)


@pytest.mark.parametrize(
    "bad",
    [
        {"preset": "fortnight"},
        {"metric": "likes"},
        {"top": 0},
        {"top": 51},
        {"compare": "yesterday"},
    ],
)
def test_bad_overview_input_is_refused(db: Engine, bad: dict[str, object]) -> None:
    log = LogWriter(db)
    with pytest.raises(InvalidInputError):
        build_overview(StatsService(db), log.account_id, **bad)  # type: ignore[arg-type]
