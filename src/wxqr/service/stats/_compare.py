"""Comparisons: the second window a query is compared with, and the change per metric.

A marketer's next question after "how many" is "compared with what". A query may carry
a :class:`Comparison` (``compare=previous_period | previous_year``, ``align=weekday``, or
an explicit ``compare_from``/``compare_to``); the service answers the base window with
the same scope and granularity, and :meth:`Change.of` computes, per metric, the base
value, the absolute change (current − base) and the percent change (null where the base
is 0). docs/metrics.md ("Comparisons") defines each.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from ._errors import InvalidWindow
from ._model import METRIC_NAMES, Metrics
from ._window import FIRST_DATE, Window

__all__ = [
    "WEEKDAY_YEAR_DAYS",
    "Align",
    "Change",
    "CompareMode",
    "Comparison",
    "base_dates",
    "percent_change",
]

#: ``previous_year`` with ``align=weekday`` goes back 52 weeks: the same weekday.
WEEKDAY_YEAR_DAYS = 364


class CompareMode(StrEnum):
    """What a query is compared with."""

    PREVIOUS_PERIOD = "previous_period"  # as many days, right before
    PREVIOUS_YEAR = "previous_year"  # the same dates a year earlier
    CUSTOM = "custom"  # an explicit second window (compare_from / compare_to)


class Align(StrEnum):
    """How ``previous_year`` lines the two windows up."""

    DATE = "date"  # the same calendar dates (29 February → 28 February)
    WEEKDAY = "weekday"  # 364 days earlier: each day beside the same weekday


def _year_earlier(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February of a leap year
        return day.replace(year=day.year - 1, day=28)


def _checked(day: date | None, name: str) -> date:
    if day is None:
        raise InvalidWindow(f"the comparison window starts before {FIRST_DATE}", field=name)
    return day


def _days_before(day: date, days: int) -> date | None:
    try:
        earlier = day - timedelta(days=days)
    except OverflowError:
        return None
    return earlier if earlier >= FIRST_DATE else None


def base_dates(
    mode: CompareMode, date_from: date, date_to: date, align: Align = Align.DATE
) -> tuple[date, date]:
    """The inclusive base dates of ``date_from … date_to`` (not for ``CUSTOM``)."""
    if mode is CompareMode.PREVIOUS_PERIOD:
        if align is not Align.DATE:
            raise InvalidWindow("align=weekday goes with compare=previous_year", field="align")
        length = (date_to - date_from).days + 1
        start = _checked(_days_before(date_from, length), "compare")
        return start, date_from - timedelta(days=1)
    if mode is CompareMode.PREVIOUS_YEAR:
        if align is Align.WEEKDAY:
            start = _checked(_days_before(date_from, WEEKDAY_YEAR_DAYS), "compare")
            return start, date_to - timedelta(days=WEEKDAY_YEAR_DAYS)
        if date_from.year <= FIRST_DATE.year:
            _checked(None, "compare")
        return _year_earlier(date_from), _year_earlier(date_to)
    raise InvalidWindow("a custom comparison needs compare_from and compare_to", field="compare")


@dataclass(frozen=True, slots=True)
class Comparison:
    """The base window of a query: how it was chosen, its inclusive dates and instants."""

    mode: CompareMode
    date_from: date
    date_to: date
    window: Window
    align: Align = Align.DATE

    def head(self) -> dict[str, str]:
        """What the comparison is, as JSON in the query's head (``comparison``)."""
        return {
            "mode": self.mode.value,
            "align": self.align.value,
            "from": self.date_from.isoformat(),
            "to": self.date_to.isoformat(),
        }


def percent_change(current: int, base: int) -> float | None:
    """``(current − base) / |base| × 100``, rounded to 0.01; None when ``base`` is 0.

    Dividing by ``|base|`` keeps the sign of the change for metrics that can be negative
    (``net_followers``): from −10 to −5 is +50 %.
    """
    if base == 0:
        return None
    return round((current - base) * 100 / abs(base), 2)


@dataclass(frozen=True, slots=True)
class Change:
    """One row's (or bucket's) comparison: the base metrics, the absolute change
    (current − base) and the percent change per metric, keyed by the metric names.

    ``base_start``/``base_end``: the base bucket a series point is set beside.
    """

    base: Metrics
    absolute: dict[str, int]
    percent: dict[str, float | None]
    base_start: datetime | None = None
    base_end: datetime | None = None

    @classmethod
    def of(
        cls,
        current: Metrics,
        base: Metrics,
        *,
        base_start: datetime | None = None,
        base_end: datetime | None = None,
    ) -> Change:
        now, before = current.as_dict(), base.as_dict()
        return cls(
            base=base,
            absolute={name: now[name] - before[name] for name in METRIC_NAMES},
            percent={name: percent_change(now[name], before[name]) for name in METRIC_NAMES},
            base_start=base_start,
            base_end=base_end,
        )

    def as_dict(self) -> dict[str, object]:
        """``{"metrics": {…}, "change": {…}, "percent": {…}}`` (API and CLI JSON)."""
        return {
            "metrics": self.base.as_dict(),
            "change": dict(self.absolute),
            "percent": dict(self.percent),
        }
