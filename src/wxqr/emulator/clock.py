"""The emulator's clock: real time plus an offset that tests move forward."""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta, timezone

__all__ = ["CHINA_TZ", "Clock", "china_date", "china_midnight"]


class Clock:
    """Wall-clock time shifted by an adjustable offset (never runs backwards by itself)."""

    __slots__ = ("_offset",)

    def __init__(self, start: float | None = None, offset: float = 0.0) -> None:
        self._offset = offset if start is None else start - time.time()

    def now(self) -> float:
        return time.time() + self._offset

    def now_int(self) -> int:
        return int(self.now())

    @property
    def offset(self) -> float:
        return self._offset

    @offset.setter
    def offset(self, value: float) -> None:
        self._offset = value

    def advance(self, seconds: float) -> float:
        """Move the clock ``seconds`` forward; return the new time."""
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        self._offset += seconds
        return self.now()

    def set(self, unix_time: float) -> float:
        """Jump to ``unix_time`` (forward or back); return it."""
        self._offset = unix_time - time.time()
        return self.now()

    def reset(self) -> None:
        self._offset = 0.0


CHINA_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")


def china_date(unix_time: float) -> date:
    """The calendar day in China (UTC+8, WeChat's day) of ``unix_time``."""
    return datetime.fromtimestamp(unix_time, CHINA_TZ).date()


def china_midnight(day: date) -> int:
    """Unix time of 00:00 China time on ``day``."""
    return int(datetime(day.year, day.month, day.day, tzinfo=CHINA_TZ).timestamp())
