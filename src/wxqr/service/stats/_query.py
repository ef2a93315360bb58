"""``StatsQuery``: one value for "which stats": account, dates, scope, granularity, zone.

The REST API, the CLI and the dashboard used to turn their inputs into a window and a
scope each in their own way. Now they hand their raw values to
:meth:`StatsService.query`, which applies the one set of rules (default account, the
last 30 days up to today in the account's zone, channel references, group, granularity,
zone) and returns a checked :class:`StatsQuery`; the service's ``*_of(query)`` methods
and :func:`wxqr.service.stats.export.build_table` answer it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from ._model import AccountRef, Granularity
from ._window import Window

__all__ = ["DEFAULT_DAYS", "StatsQuery", "StatsTable"]

DEFAULT_DAYS = 30


class StatsTable(StrEnum):
    """The tables a query can be answered with (and exported as)."""

    SUMMARY = "summary"
    CHANNELS = "channels"
    GROUPS = "groups"
    SERIES = "series"
    ORPHANS = "orphans"


@dataclass(frozen=True, slots=True)
class StatsQuery:
    """A checked stats query (build it with :meth:`StatsService.query`).

    ``channel_ids`` None means every channel of the account; with ``group`` the scope is
    the channels in both. ``timezone`` is the zone the dates (and series buckets) are
    read in: the account's unless the caller chose another.
    """

    account: AccountRef
    date_from: date
    date_to: date
    window: Window
    channel_ids: tuple[int, ...] | None = None
    group: str | None = None
    granularity: Granularity = Granularity.DAY
    timezone: str = ""

    def head(self) -> dict[str, Any]:
        """What the query was, as JSON the API puts before every answer."""
        return {
            "account": self.account.appid,
            "from": self.date_from.isoformat(),
            "to": self.date_to.isoformat(),
            "timezone": self.timezone or self.account.timezone,
            "channel_ids": list(self.channel_ids) if self.channel_ids is not None else None,
            "group": self.group,
        }
