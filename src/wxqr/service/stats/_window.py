"""Windows: half-open ``[start, end)`` intervals of instants, with the zone they are read in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ._errors import InvalidWindow

__all__ = [
    "DEFAULT_TIMEZONE",
    "FIRST_DATE",
    "LAST_DATE",
    "Window",
    "local_midnight",
    "unix_ceil",
    "zone",
]

DEFAULT_TIMEZONE = "Asia/Shanghai"
#: The dates a window may cover: no scan is older than Unix time, and the day after the
#: last one must still be a date.
FIRST_DATE = date(1970, 1, 1)
LAST_DATE = date(9999, 12, 30)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def unix_ceil(instant: datetime) -> int:
    """The first whole Unix second at or after the aware ``instant`` (exact, no floats)."""
    delta = instant - _EPOCH
    seconds = delta.days * 86_400 + delta.seconds
    return seconds + 1 if delta.microseconds else seconds


def zone(name: str) -> ZoneInfo:
    """The IANA zone ``name``, or ``InvalidWindow`` naming the bad value."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidWindow(f"unknown time zone {name!r}") from exc


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    """The first instant of local ``day`` in ``tz`` (correct when midnight is skipped by DST)."""
    return datetime.combine(day, time(0), tzinfo=tz)


@dataclass(frozen=True, slots=True)
class Window:
    """Events with ``start <= create_time < end``.

    ``start`` and ``end`` are timezone-aware datetimes. ``tz`` is the IANA zone that dates,
    series buckets and labels are read in; None means the account's zone.
    """

    start: datetime
    end: datetime
    tz: str | None = None

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.start.utcoffset() is None:
            raise InvalidWindow("window start must be a timezone-aware datetime")
        if self.end.tzinfo is None or self.end.utcoffset() is None:
            raise InvalidWindow("window end must be a timezone-aware datetime")
        # Compare as instants: aware datetimes sharing one tzinfo compare by wall time.
        if self.start.astimezone(UTC) >= self.end.astimezone(UTC):
            raise InvalidWindow("window start must be before its end")
        if self.tz is not None:
            zone(self.tz)

    @classmethod
    def from_dates(cls, date_from: date, date_to: date, tz: str) -> Window:
        """The inclusive local dates ``date_from … date_to`` in ``tz``."""
        if isinstance(date_from, datetime) or isinstance(date_to, datetime):
            raise InvalidWindow("from_dates takes dates, not datetimes")
        if date_from > date_to:
            raise InvalidWindow(f"from date {date_from} is after to date {date_to}")
        for name, day in (("from", date_from), ("to", date_to)):
            if not FIRST_DATE <= day <= LAST_DATE:
                # Beyond these a local midnight has no Unix time (year 1, year 9999 + 1 day).
                raise InvalidWindow(
                    f"{name} date {day} is out of range: dates run from {FIRST_DATE} "
                    f"to {LAST_DATE}",
                    field=name,
                )
        info = zone(tz)
        try:
            end_day = date_to + timedelta(days=1)
        except OverflowError as exc:
            raise InvalidWindow(f"to date {date_to} is out of range") from exc
        return cls(local_midnight(date_from, info), local_midnight(end_day, info), tz)

    def with_tz(self, tz: str) -> Window:
        """This window, read in ``tz`` when it has no zone of its own."""
        return self if self.tz is not None else Window(self.start, self.end, tz)

    @property
    def start_s(self) -> int:
        """The first whole Unix second in the window."""
        return unix_ceil(self.start)

    @property
    def end_s(self) -> int:
        """The first whole Unix second after the window (events are whole seconds)."""
        return unix_ceil(self.end)
