"""The values the stats service returns (see docs/metrics.md for what each number means)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

__all__ = [
    "METRIC_NAMES",
    "AccountRef",
    "ChannelMetrics",
    "ChannelRef",
    "Granularity",
    "GroupMetrics",
    "Metrics",
    "OrphanScan",
    "SeriesPoint",
    "SessionMetrics",
]

METRIC_NAMES: tuple[str, ...] = (
    "scans",
    "unique_scanners",
    "new_followers",
    "returning_followers",
    "unfollows",
    "net_followers",
)


class Granularity(StrEnum):
    """The bucket size of a series, in the window's time zone."""

    HOUR = "hour"
    DAY = "day"
    WEEK = "week"  # ISO week, Monday to Monday
    MONTH = "month"
    QUARTER = "quarter"  # calendar quarters: January, April, July, October
    YEAR = "year"  # calendar years


@dataclass(frozen=True, slots=True)
class Metrics:
    """The six channel metrics; ``net_followers`` is always new + returning - unfollows."""

    scans: int
    unique_scanners: int
    new_followers: int
    returning_followers: int
    unfollows: int
    net_followers: int
    # Conversion (docs/metrics.md, "Conversion"): the scans that were a follow
    # (``subscribe_scan``); the rest are scans by existing followers (``scan``).
    follow_scans: int = 0

    def __post_init__(self) -> None:
        expected = self.new_followers + self.returning_followers - self.unfollows
        if self.net_followers != expected:
            raise ValueError("net_followers must equal new + returning - unfollows")
        for name in METRIC_NAMES[:5]:
            if getattr(self, name) < 0:
                raise ValueError(f"{name} cannot be negative")
        if not 0 <= self.follow_scans <= self.scans:
            raise ValueError("follow_scans must be between 0 and scans")

    @property
    def follower_scans(self) -> int:
        """Scans by users already following (``scan``): scans − follow scans."""
        return self.scans - self.follow_scans

    @property
    def conversion_rate(self) -> float | None:
        """new_followers ÷ unique_scanners (None when nobody scanned)."""
        if not self.unique_scanners:
            return None
        return self.new_followers / self.unique_scanners

    def conversion(self) -> dict[str, int | float | None]:
        """``follow_scans``, ``follower_scans`` and ``conversion_rate``."""
        return {
            "follow_scans": self.follow_scans,
            "follower_scans": self.follower_scans,
            "conversion_rate": self.conversion_rate,
        }

    @classmethod
    def of(
        cls,
        *,
        scans: int,
        unique_scanners: int,
        new_followers: int,
        returning_followers: int,
        unfollows: int,
        follow_scans: int = 0,
    ) -> Metrics:
        """Build a value, computing ``net_followers``."""
        return cls(
            scans=scans,
            unique_scanners=unique_scanners,
            new_followers=new_followers,
            returning_followers=returning_followers,
            unfollows=unfollows,
            net_followers=new_followers + returning_followers - unfollows,
            follow_scans=follow_scans,
        )

    @classmethod
    def zero(cls) -> Metrics:
        return cls(0, 0, 0, 0, 0, 0)

    def as_dict(self) -> dict[str, int]:
        """The metrics keyed by exactly their names, in the documented order."""
        return {name: int(getattr(self, name)) for name in METRIC_NAMES}

    def value(self, name: str) -> int:
        """One metric by name; ``KeyError`` for anything that is not a metric name."""
        if name not in METRIC_NAMES:
            raise KeyError(name)
        return int(getattr(self, name))


@dataclass(frozen=True, slots=True)
class AccountRef:
    """The account a query is about: its id, appid and time zone name."""

    id: int
    appid: str
    name: str
    timezone: str


@dataclass(frozen=True, slots=True)
class ChannelRef:
    """A channel as the stats know it."""

    id: int
    name: str
    group: str | None
    status: str


@dataclass(frozen=True, slots=True)
class ChannelMetrics:
    channel: ChannelRef
    metrics: Metrics


@dataclass(frozen=True, slots=True)
class GroupMetrics:
    """A group's metrics; ``group`` None is the channels without a group."""

    group: str | None
    channel_count: int
    metrics: Metrics


@dataclass(frozen=True, slots=True)
class SessionMetrics:
    """The pseudo-scope ``sessions``: the scans and follows through scan sessions of one
    purpose (``login``, ``bind``…); in no channel, in the account's totals."""

    purpose: str
    metrics: Metrics


@dataclass(frozen=True, slots=True)
class SeriesPoint:
    """One bucket ``[start, end)`` (aware datetimes in the series' zone) and its metrics."""

    start: datetime
    end: datetime
    metrics: Metrics


@dataclass(frozen=True, slots=True)
class OrphanScan:
    """Scans in the window of one scene that was unknown when they arrived."""

    scene: str
    scans: int
    unique_scanners: int
    follows: int
    first_seen: datetime
    last_seen: datetime
