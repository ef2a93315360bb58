"""``StatsQuery``: one value for "which stats": account, dates, scope, granularity, zone.

The REST API, the CLI and the dashboard used to turn their inputs into a window and a
scope each in their own way. Now they hand their raw values to
:meth:`StatsService.query`, which applies the one set of rules (default account, the
last 30 days up to today in the account's zone, channel references, group, granularity,
zone, the comparison window, the split of a series) and returns a checked
:class:`StatsQuery`; the service's ``*_of(query)`` methods and
:func:`wxqr.service.stats.export.build_table` answer it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from ._attribution import Attribution
from ._compare import Comparison
from ._model import AccountRef, Granularity
from ._window import Window

__all__ = ["DEFAULT_DAYS", "MAX_SPLITS", "Split", "StatsQuery", "StatsTable"]

#: A split series draws one line per channel or group: more is no chart anyone reads.
MAX_SPLITS = 50

DEFAULT_DAYS = 30


class StatsTable(StrEnum):
    """The tables a query can be answered with (and exported as)."""

    SUMMARY = "summary"
    CHANNELS = "channels"
    GROUPS = "groups"
    SERIES = "series"
    ORPHANS = "orphans"


class Split(StrEnum):
    """A series split into one series per channel or per group (one chart, several lines)."""

    CHANNEL = "channel"
    GROUP = "group"


@dataclass(frozen=True, slots=True)
class StatsQuery:
    """A checked stats query (build it with :meth:`StatsService.query`).

    ``channel_ids`` None means every channel of the account; ``group`` narrows to one
    group (a query has channels or a group, never both). ``timezone`` is the zone the
    dates (and series buckets) are read in: the account's unless the caller chose
    another. ``compare``: the second window the answers are compared with (None: no
    comparison); ``split``: a series is also answered per channel or per group;
    ``attribution``: the unfollow attribution model (docs/metrics.md).
    """

    account: AccountRef
    date_from: date
    date_to: date
    window: Window
    channel_ids: tuple[int, ...] | None = None
    group: str | None = None
    granularity: Granularity = Granularity.DAY
    timezone: str = ""
    compare: Comparison | None = None
    split: Split | None = None
    attribution: Attribution = Attribution.FIRST_TOUCH

    def head(self) -> dict[str, Any]:
        """What the query was, as JSON the API puts before every answer."""
        return {
            "account": self.account.appid,
            "from": self.date_from.isoformat(),
            "to": self.date_to.isoformat(),
            "timezone": self.timezone or self.account.timezone,
            "channel_ids": list(self.channel_ids) if self.channel_ids is not None else None,
            "group": self.group,
            "comparison": self.compare.head() if self.compare is not None else None,
            "attribution": self.attribution.value,
        }
