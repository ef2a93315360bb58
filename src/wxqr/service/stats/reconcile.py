"""Reconciliation with WeChat's data cube (docs/metrics.md, "Reconciliation with WeChat's
data cube"): per China day, wxqr's follows, unfollows and code follows beside
``getusersummary`` and ``getusercumulate``, with the differences and their likely causes.

WeChat's answers are cached per day in ``datacube_cache``: a past day's numbers do not
change, so each day costs one fetch (in 7-day calls, WeChat's limit).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import Engine, Integer, case, func, insert, literal_column, select
from sqlalchemy.exc import IntegrityError

from wxqr.service.accounts import Account, resolve_account
from wxqr.service.errors import upstream_error
from wxqr.store.tables import datacube_cache, events
from wxqr.wechat import WeChatError

from ._buckets import plan_buckets
from ._errors import InvalidWindow
from ._model import Granularity
from ._query import StatsQuery
from ._sql import FOLLOW_KINDS, UNFOLLOW_KIND
from ._window import Window, zone

__all__ = [
    "CHINA_TIMEZONE",
    "CODE_SOURCE",
    "MAX_RECONCILE_DAYS",
    "DatacubeClient",
    "ReconcileDay",
    "ReconcileService",
    "Reconciliation",
]

CHINA_TIMEZONE = "Asia/Shanghai"  # the data cube's days
CODE_SOURCE = 30  # user_source 30: 扫描二维码
MAX_RECONCILE_DAYS = 366
_SUMMARY = "getusersummary"
_CUMULATE = "getusercumulate"
_CHUNK = 7
_ONE = literal_column("1", Integer)
_ZERO = literal_column("0", Integer)


class DatacubeClient(Protocol):
    """What reconciliation needs of :class:`wxqr.wechat.SyncWeChatClient`."""

    def user_summary(self, begin: date, end: date) -> list[Any]: ...

    def user_cumulate(self, begin: date, end: date) -> list[Any]: ...


ClientFactory = Callable[[Account], AbstractContextManager[DatacubeClient]]

_COLUMNS = ("follows", "unfollows", "code_follows")


@dataclass(frozen=True, slots=True)
class ReconcileDay:
    """One China day. WeChat's side is None for days it has no data for yet (today)."""

    day: date
    wxqr: dict[str, int]
    wechat: dict[str, int] | None
    cumulate: int | None
    differences: dict[str, int] | None = None
    causes: tuple[str, ...] = field(default=())

    @property
    def matches(self) -> bool | None:
        return None if self.differences is None else not any(self.differences.values())


@dataclass(frozen=True, slots=True)
class Reconciliation:
    date_from: date
    date_to: date
    days: list[ReconcileDay]
    fetched_days: int  # days asked of WeChat by this call (the rest came from the cache)


def _causes(ours: dict[str, int], theirs: dict[str, int]) -> tuple[str, ...]:
    causes = []
    if theirs["follows"] > ours["follows"] or theirs["unfollows"] > ours["unfollows"]:
        causes.append("missed_pushes")
    other_theirs = theirs["follows"] - theirs["code_follows"]
    other_ours = ours["follows"] - ours["code_follows"]
    if other_theirs != other_ours:
        causes.append("other_sources")
    if any(ours[name] > theirs[name] for name in _COLUMNS):
        causes.append("extra_in_wxqr")
    return tuple(causes)


def _runs(days: list[date]) -> Iterator[tuple[date, date]]:
    """Consecutive days as inclusive ranges of at most 7 days."""
    start = previous = None
    for day in days:
        if (
            start is not None
            and previous is not None
            and (day != previous + timedelta(days=1) or (day - start).days >= _CHUNK)
        ):
            yield start, previous
            start = None
        if start is None:
            start = day
        previous = day
    if start is not None and previous is not None:
        yield start, previous


class ReconcileService:
    """wxqr's counts beside WeChat's; ``clients`` makes a WeChat client for an account
    (the runtime's :meth:`~wxqr.service.wechat_clients.WeChatClients.client`)."""

    def __init__(
        self, engine: Engine, clients: ClientFactory, *, clock: Callable[[], float] = time.time
    ) -> None:
        self._engine = engine
        self._clients = clients
        self._clock = clock

    def reconcile_of(self, query: StatsQuery) -> Reconciliation:
        """The query's dates as China days (the account's scope; channels do not apply)."""
        if query.channel_ids is not None or query.group is not None:
            raise InvalidWindow(
                "reconciliation is per account: WeChat's data cube has no channels",
                field="channel",
            )
        first, last = query.date_from, query.date_to
        if (last - first).days >= MAX_RECONCILE_DAYS:
            raise InvalidWindow(f"reconcile at most {MAX_RECONCILE_DAYS} days at once", field="to")
        window = Window.from_dates(first, last, CHINA_TIMEZONE)
        ours = self._ours(query.account.id, window, first)
        today = datetime.fromtimestamp(self._clock(), zone(CHINA_TIMEZONE)).date()
        ready = [first + timedelta(days=i) for i in range((last - first).days + 1)]
        ready = [day for day in ready if day < today]
        cached = self._cached(query.account.id, first, last)
        missing = [
            day for day in ready if (_SUMMARY, day) not in cached or (_CUMULATE, day) not in cached
        ]
        if missing:
            account = resolve_account(self._engine, query.account.id)
            try:
                cached.update(self._fetch(account, missing))
            except WeChatError as exc:
                raise upstream_error(exc, "give its data cube (user summary)") from None
        days = []
        for i in range((last - first).days + 1):
            day = first + timedelta(days=i)
            wxqr = ours.get(day, dict.fromkeys(_COLUMNS, 0))
            summary = cached.get((_SUMMARY, day))
            if day >= today or summary is None:
                days.append(ReconcileDay(day, wxqr, None, None))
                continue
            theirs = {
                "follows": sum(int(row["new_user"]) for row in summary),
                "unfollows": sum(int(row["cancel_user"]) for row in summary),
                "code_follows": sum(
                    int(row["new_user"]) for row in summary if row["user_source"] == CODE_SOURCE
                ),
            }
            cumulate = cached.get((_CUMULATE, day))
            differences = {name: theirs[name] - wxqr[name] for name in _COLUMNS}
            days.append(
                ReconcileDay(
                    day,
                    wxqr,
                    theirs,
                    int(cumulate) if cumulate is not None else None,
                    differences,
                    _causes(wxqr, theirs),
                )
            )
        return Reconciliation(first, last, days, len(missing))

    def _ours(self, account_id: int, window: Window, first: date) -> dict[date, dict[str, int]]:
        start_s, end_s = window.start_s, window.end_s
        plan = plan_buckets(start_s, end_s, zone(CHINA_TIMEZONE), Granularity.DAY)
        e = events.c
        columns = [
            func.sum(case((e.kind.in_(FOLLOW_KINDS), _ONE), else_=_ZERO)),
            func.sum(case((e.kind == UNFOLLOW_KIND, _ONE), else_=_ZERO)),
            func.sum(case((e.kind == "subscribe_scan", _ONE), else_=_ZERO)),
        ]
        where = (
            e.account_id == account_id,
            e.create_time >= start_s,
            e.create_time < end_s,
            e.kind.in_((*FOLLOW_KINDS, UNFOLLOW_KIND)),
        )
        with self._engine.connect() as conn:
            if plan.count > 1:
                key = plan.index_sql(e.create_time)
                query = select(key.label("k"), *columns).where(*where).group_by(key)
                rows = [tuple(row) for row in conn.execute(query)]
            else:
                rows = [(0, *row) for row in conn.execute(select(*columns).where(*where))]
        return {
            first + timedelta(days=int(index)): dict(
                zip(_COLUMNS, (int(v or 0) for v in values), strict=True)
            )
            for index, *values in rows
        }

    def _cached(self, account_id: int, first: date, last: date) -> dict[tuple[str, date], Any]:
        c = datacube_cache.c
        query = select(c.endpoint, c.ref_date, c.body).where(
            c.account_id == account_id,
            c.ref_date >= first.isoformat(),
            c.ref_date <= last.isoformat(),
        )
        with self._engine.connect() as conn:
            return {
                (str(endpoint), date.fromisoformat(ref_date)): json.loads(body)
                for endpoint, ref_date, body in conn.execute(query)
            }

    def _fetch(self, account: Account, days: list[date]) -> dict[tuple[str, date], Any]:
        """Ask WeChat for ``days`` (consecutive runs, 7 days a call) and cache them."""
        found: dict[tuple[str, date], Any] = {}
        with self._clients(account) as client:
            for begin, end in _runs(days):
                summary: dict[date, list[dict[str, int]]] = {
                    begin + timedelta(days=i): [] for i in range((end - begin).days + 1)
                }
                for row in client.user_summary(begin, end):
                    summary.setdefault(row.ref_date, []).append(
                        {
                            "user_source": int(row.user_source),
                            "new_user": int(row.new_user),
                            "cancel_user": int(row.cancel_user),
                        }
                    )
                cumulate = {
                    row.ref_date: int(row.cumulate_user) for row in client.user_cumulate(begin, end)
                }
                for day, rows in summary.items():
                    found[(_SUMMARY, day)] = rows
                    if day in cumulate:
                        found[(_CUMULATE, day)] = cumulate[day]
        now = int(self._clock())
        with self._engine.begin() as conn:
            for (endpoint, day), body in found.items():
                try:
                    with conn.begin_nested():
                        conn.execute(
                            insert(datacube_cache).values(
                                account_id=account.id,
                                endpoint=endpoint,
                                ref_date=day.isoformat(),
                                body=json.dumps(body),
                                fetched_at=now,
                            )
                        )
                except IntegrityError:
                    continue  # cached meanwhile by another call: same answer
        return found
