"""``datacube/getusersummary`` (new and cancelled followers per day and user_source) and
``datacube/getusercumulate`` (total followers at the end of each day).

Computed from the emulator's own follow history, in China days: a push the emulator
made but did not deliver (an account without ``push_url``) still counts, as in WeChat.
At most 7 days a call and no later than yesterday (WeChat's data is ready the next
morning): else 61501; dates that are not ``YYYY-MM-DD``: 61500.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from .clock import china_date
from .errors import WeChatError
from .users import HistoryEntry

__all__ = ["MAX_DAYS", "user_cumulate", "user_summary"]

MAX_DAYS = 7


def _day(raw: object) -> date:
    if not isinstance(raw, str):
        raise WeChatError(61500)
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise WeChatError(61500) from None


def _range(begin_raw: object, end_raw: object, now: float) -> tuple[date, date]:
    begin, end = _day(begin_raw), _day(end_raw)
    if end < begin or (end - begin).days >= MAX_DAYS or end >= china_date(now):
        raise WeChatError(61501)
    return begin, end


def user_summary(
    begin_raw: object, end_raw: object, history: list[HistoryEntry], now: float
) -> list[dict[str, Any]]:
    begin, end = _range(begin_raw, end_raw, now)
    counts: dict[tuple[date, int], list[int]] = {}
    for entry in history:
        day = china_date(entry.time)
        if begin <= day <= end:
            pair = counts.setdefault((day, entry.source), [0, 0])
            pair[0 if entry.subscribe else 1] += 1
    rows: list[dict[str, Any]] = []
    day = begin
    while day <= end:
        sources = sorted(s for (d, s) in counts if d == day) or [0]
        for source in sources:
            new, cancel = counts.get((day, source), [0, 0])
            rows.append(
                {
                    "ref_date": day.isoformat(),
                    "user_source": source,
                    "new_user": new,
                    "cancel_user": cancel,
                }
            )
        day += timedelta(days=1)
    return rows


def user_cumulate(
    begin_raw: object, end_raw: object, history: list[HistoryEntry], now: float
) -> list[dict[str, Any]]:
    """One row per day: the followers following at the end of the day (China time)."""
    begin, end = _range(begin_raw, end_raw, now)
    ordered = sorted(history, key=lambda entry: entry.time)  # stable: ties keep their order
    following: dict[str, bool] = {}
    rows: list[dict[str, Any]] = []
    i = 0
    day = begin
    while day <= end:
        next_day = day + timedelta(days=1)
        while i < len(ordered) and china_date(ordered[i].time) < next_day:
            following[ordered[i].openid] = ordered[i].subscribe
            i += 1
        rows.append(
            {
                "ref_date": day.isoformat(),
                "user_source": 0,
                "cumulate_user": sum(1 for now_following in following.values() if now_following),
            }
        )
        day = next_day
    return rows
