"""The overview a marketer reads every morning: KPIs against the previous period, the trend,
the channels compared, the groups, the orphan scans (docs/dashboard.md, docs/metrics.md).

Date ranges come as presets (今天, 昨天, 近7天, 近30天, 本月, 上月, 自定义) read in the account's
time zone. The previous period is the same number of days right before the range (for 本月
and 上月: the month before): the range's query compares with it (``compare_from`` /
``compare_to``), so the KPI changes and the previous series are the stats service's one
comparison (docs/metrics.md, "Comparisons"), as in the API, the CLI and the exports; the
overview builds no SQL of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from wxqr.service.errors import InvalidInputError
from wxqr.service.stats import (
    METRIC_NAMES,
    ChannelMetrics,
    Compared,
    Comparison,
    Granularity,
    GroupMetrics,
    Metrics,
    OrphanScan,
    SeriesPoint,
    StatsQuery,
    StatsService,
)

__all__ = [
    "COMPARE_CHOICES",
    "KPI_METRICS",
    "Kpi",
    "Overview",
    "RangePreset",
    "build_overview",
    "preset_dates",
    "previous_dates",
]

# The KPI cards, in order (docs/metrics.md defines each).
KPI_METRICS = ("scans", "unique_scanners", "new_followers", "unfollows", "net_followers")
MAX_TOP = 50
#: What the overview compares with: the previous period (as below), or the same weekdays
#: a year earlier (``compare=previous_year&align=weekday``).
COMPARE_CHOICES = ("previous_period", "previous_year")


class RangePreset(StrEnum):
    TODAY = "today"
    YESTERDAY = "yesterday"
    LAST_7_DAYS = "7d"
    LAST_30_DAYS = "30d"
    THIS_MONTH = "this-month"
    LAST_MONTH = "last-month"
    CUSTOM = "custom"


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _previous_month(day: date) -> tuple[date, date]:
    end = _month_start(day) - timedelta(days=1)
    return _month_start(end), end


def preset_dates(preset: RangePreset, today: date) -> tuple[date, date]:
    """The inclusive dates of a preset (not CUSTOM) on the account's ``today``."""
    match preset:
        case RangePreset.TODAY:
            return today, today
        case RangePreset.YESTERDAY:
            yesterday = today - timedelta(days=1)
            return yesterday, yesterday
        case RangePreset.LAST_7_DAYS:
            return today - timedelta(days=6), today
        case RangePreset.LAST_30_DAYS:
            return today - timedelta(days=29), today
        case RangePreset.THIS_MONTH:
            return _month_start(today), today
        case RangePreset.LAST_MONTH:
            return _previous_month(today)
    raise InvalidInputError("a custom range needs its from and to dates", field="range")


def previous_dates(preset: RangePreset, date_from: date, date_to: date) -> tuple[date, date]:
    """The period the range is compared with: the month before for the month presets
    (本月 is compared with the same days of last month), else as many days right before."""
    if preset is RangePreset.THIS_MONTH:
        start, end = _previous_month(date_from)
        length = (date_to - date_from).days
        return start, min(end, start + timedelta(days=length))
    if preset is RangePreset.LAST_MONTH:
        return _previous_month(date_from)
    days = (date_to - date_from).days + 1
    return date_from - timedelta(days=days), date_from - timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Kpi:
    """One KPI card: the value over the range, over the previous period, and the change
    (``None`` when the previous value is 0: a ratio to nothing is no number)."""

    metric: str
    value: int
    previous: int
    percent: float | None = None  # the service's percent change (Change.percent)

    @property
    def delta(self) -> int:
        return self.value - self.previous

    @property
    def change(self) -> float | None:
        """The change as a fraction of the previous value (the service's percent / 100)."""
        return None if self.percent is None else self.percent / 100


@dataclass(frozen=True, slots=True)
class Overview:
    preset: RangePreset
    query: StatsQuery
    previous: Comparison
    metric: str
    kpis: list[Kpi]
    series: list[SeriesPoint]
    previous_series: list[SeriesPoint]
    top: list[ChannelMetrics]
    groups: list[GroupMetrics]
    orphans: list[OrphanScan]
    today: date
    compare: str = "previous_period"


def _kpis(summary: Compared[Metrics]) -> list[Kpi]:
    now, change = summary.value, summary.change
    assert change is not None  # the overview's query always compares
    return [
        Kpi(name, now.value(name), change.base.value(name), change.percent[name])
        for name in KPI_METRICS
    ]


def build_overview(
    stats: StatsService,
    account_id: int,
    *,
    preset: RangePreset | str = RangePreset.LAST_7_DAYS,
    date_from: date | None = None,
    date_to: date | None = None,
    metric: str = "scans",
    top: int = 10,
    compare: str = "previous_period",
) -> Overview:
    """The overview of one account. Dates given make the range CUSTOM; ``metric`` picks
    the trend's and the channel comparison's metric; ``top`` channels are compared."""
    try:
        chosen = RangePreset(preset)
    except ValueError:
        names = ", ".join(p.value for p in RangePreset)
        raise InvalidInputError(f"range must be one of {names}", field="range") from None
    if metric not in METRIC_NAMES:
        raise InvalidInputError(f"metric must be one of {', '.join(METRIC_NAMES)}", field="metric")
    if not 1 <= top <= MAX_TOP:
        raise InvalidInputError(f"top must be 1 to {MAX_TOP}", field="top")
    if compare not in COMPARE_CHOICES:
        choices = ", ".join(COMPARE_CHOICES)
        raise InvalidInputError(f"compare must be one of {choices}", field="compare")
    account = stats.account(account_id)
    today = stats.today(account.timezone)
    if date_from is not None or date_to is not None:
        chosen = RangePreset.CUSTOM
    if chosen is RangePreset.CUSTOM:
        start, end = date_from or date_to or today, date_to or date_from or today
    else:
        start, end = preset_dates(chosen, today)
    # The range checked first (dates in order and in range), then compared.
    plain = stats.query(account_id, date_from=start, date_to=end)
    if compare == "previous_year":
        query = stats.query(
            account_id,
            date_from=start,
            date_to=end,
            granularity=Granularity.DAY,
            compare="previous_year",
            align="weekday",
        )
    else:
        before_from, before_to = previous_dates(chosen, plain.date_from, plain.date_to)
        query = stats.query(
            account_id,
            date_from=start,
            date_to=end,
            granularity=Granularity.DAY,
            compare_from=before_from,
            compare_to=before_to,
        )
    assert query.compare is not None
    series = stats.compared_series_of(query)
    return Overview(
        preset=chosen,
        query=query,
        previous=query.compare,
        metric=metric,
        kpis=_kpis(stats.compared_summary_of(query)),
        series=[point.value for point in series],
        previous_series=[
            SeriesPoint(p.change.base_start, p.change.base_end, p.change.base)
            for p in series
            if p.change is not None and p.change.base_start and p.change.base_end
        ],
        top=stats.top_of(query, by=metric, limit=top),
        groups=stats.groups_of(query),
        orphans=stats.orphans_of(query),
        today=today,
        compare=compare,
    )
