"""The metrics of docs/metrics.md computed the obvious way, in Python, from the event list.

Deliberately naive (quadratic, no SQL, no shared code with the service) so that it is easy
to check against the document by reading.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from wxqr.service.session_scenes import is_session_scene, purpose_of_scene

from ._world import Event

SCANS = ("subscribe_scan", "scan")
FOLLOWS = ("subscribe_scan", "subscribe")


def metrics(
    log: list[Event],
    account_id: int,
    start_s: int,
    end_s: int,
    scope: set[int] | None,
    attribution: str = "first_touch",
) -> dict[str, int]:
    """The six metrics of the account (``scope`` None) or of the channels in ``scope``."""
    return metrics_where(log, account_id, lambda t: start_s <= t < end_s, scope, None, attribution)


def credited_channel(log: list[Event], unfollow: Event, attribution: str) -> int | None:
    """The channel an unfollow counts for: that of the first (``first_touch``) or the
    latest (``last_touch``) follow of its openid before it in the log order."""
    earlier = sorted(
        (e.create_time, e.id, e.channel_id)
        for e in log
        if e.account_id == unfollow.account_id
        and e.openid == unfollow.openid
        and e.kind in FOLLOWS
        and (e.create_time, e.id) < (unfollow.create_time, unfollow.id)
    )
    if not earlier:
        return None
    return earlier[0][2] if attribution == "first_touch" else earlier[-1][2]


def metrics_where(
    log: list[Event],
    account_id: int,
    counted: Callable[[int], bool],
    scope: set[int] | None,
    keep: Callable[[Event], bool] | None = None,
    attribution: str = "first_touch",
) -> dict[str, int]:
    """The metrics of the events whose ``create_time`` is ``counted`` (and that ``keep``
    keeps); history is all of log."""
    mine = [e for e in log if e.account_id == account_id]
    window = [e for e in mine if counted(e.create_time)]
    if scope is not None:

        def channel(e: Event) -> int | None:
            if e.kind == "unsubscribe":
                return credited_channel(mine, e, attribution)
            return e.channel_id

        window = [e for e in window if channel(e) in scope]
    if keep is not None:
        window = [e for e in window if keep(e)]

    def has_earlier_follow(event: Event) -> bool:
        return any(
            other.openid == event.openid
            and other.kind in FOLLOWS
            and (other.create_time, other.id) < (event.create_time, event.id)
            for other in mine
        )

    scans = [e for e in window if e.kind in SCANS]
    follows = [e for e in window if e.kind in FOLLOWS]
    new = sum(1 for e in follows if not has_earlier_follow(e))
    returning = len(follows) - new
    unfollows = sum(1 for e in window if e.kind == "unsubscribe")
    return {
        "scans": len(scans),
        "unique_scanners": len({e.openid for e in scans}),
        "new_followers": new,
        "returning_followers": returning,
        "unfollows": unfollows,
        "net_followers": new + returning - unfollows,
    }


def _local(t: int, tz: ZoneInfo) -> datetime:
    return datetime.fromtimestamp(t, tz)


def _midnight(day: date, tz: ZoneInfo) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=tz).timestamp())


_MONTHS = {"month": 1, "quarter": 3, "year": 12}


def bucket_starts(start_s: int, end_s: int, tz: ZoneInfo, granularity: str) -> list[int]:
    """Start instants of every bucket touching ``[start_s, end_s)``, plus the end of the last."""
    first, last = _local(start_s, tz), _local(end_s - 1, tz)
    if granularity == "hour":
        starts = [int(first.replace(minute=0, second=0).timestamp())]
        while starts[-1] < end_s:
            starts.append(starts[-1] + 3600)
        return starts
    if granularity in _MONTHS:
        step = _MONTHS[granularity]
        # Buckets start in January, or in January, April, July, October (quarters).
        months = [(first.year, first.month - (first.month - 1) % step)]
        while months[-1] <= (last.year, last.month):
            year, month = months[-1]
            month += step
            months.append((year + 1, month - 12) if month > 12 else (year, month))
        return [_midnight(date(year, month, 1), tz) for year, month in months]
    step = 7 if granularity == "week" else 1
    day = first.date() - timedelta(days=first.weekday() if granularity == "week" else 0)
    days = [day]
    while days[-1] <= last.date():
        days.append(days[-1] + timedelta(days=step))
    return [_midnight(d, tz) for d in days]


def bucket_key(t: int, tz: ZoneInfo, granularity: str) -> object:
    """The bucket of instant ``t``, read off its local wall-clock time."""
    local = _local(t, tz)
    if granularity == "hour":
        return int(local.replace(minute=0, second=0).timestamp())
    if granularity == "day":
        return local.date()
    if granularity == "week":
        return local.isocalendar()[:2]
    if granularity == "quarter":
        return (local.year, (local.month - 1) // 3)
    if granularity == "year":
        return local.year
    return (local.year, local.month)


def series(
    log: list[Event],
    account_id: int,
    start_s: int,
    end_s: int,
    scope: set[int] | None,
    tz: ZoneInfo,
    granularity: str,
    attribution: str = "first_touch",
) -> list[tuple[int, int, dict[str, int]]]:
    """``[(bucket start, bucket end, metrics)]`` zero-filled over the window."""
    starts = bucket_starts(start_s, end_s, tz, granularity)
    result = []
    for lo, hi in itertools.pairwise(starts):
        label = bucket_key(lo, tz, granularity)

        def counted(t: int, label: object = label) -> bool:
            return start_s <= t < end_s and bucket_key(t, tz, granularity) == label

        result.append((lo, hi, metrics_where(log, account_id, counted, scope, None, attribution)))
    return result


def sessions(
    log: list[Event], account_id: int, start_s: int, end_s: int
) -> dict[str, dict[str, int]]:
    """The pseudo-scope ``sessions``: per purpose (the end of a session scene), the metrics
    of the window's events of session scenes."""
    purposes = {
        purpose_of_scene(e.scene)
        for e in log
        if e.account_id == account_id
        and is_session_scene(e.scene)
        and start_s <= e.create_time < end_s
        and e.kind in SCANS
    }
    return {
        purpose: metrics_where(
            log,
            account_id,
            lambda t: start_s <= t < end_s,
            None,
            lambda e, p=purpose: is_session_scene(e.scene) and purpose_of_scene(e.scene or "") == p,
        )
        for purpose in purposes
    }


def conversion(
    log: list[Event], account_id: int, start_s: int, end_s: int, scope: set[int] | None
) -> dict[str, int | float | None]:
    """Conversion of docs/metrics.md: follow scans (``subscribe_scan``), follower scans
    (``scan``) and new followers ÷ unique scanners (None when nobody scanned)."""
    window = [
        e
        for e in log
        if e.account_id == account_id
        and start_s <= e.create_time < end_s
        and e.kind in SCANS
        and (scope is None or e.channel_id in scope)
    ]
    unique = len({e.openid for e in window})
    new = metrics(log, account_id, start_s, end_s, scope)["new_followers"]
    return {
        "follow_scans": sum(1 for e in window if e.kind == "subscribe_scan"),
        "follower_scans": sum(1 for e in window if e.kind == "scan"),
        "conversion_rate": new / unique if unique else None,
    }
