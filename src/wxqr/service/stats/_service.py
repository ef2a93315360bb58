"""``StatsService``: the channel metrics of docs/metrics.md, computed in the database."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, func

from wxqr.service.accounts import Account, resolve_account
from wxqr.service.session_scenes import PURPOSE_START, SESSION_SCENE_PREFIX
from wxqr.store.tables import channels

from . import _lookup
from . import _rollup_read as rollup
from ._attribution import Attribution
from ._buckets import plan_buckets
from ._compare import Align, Change, CompareMode, Comparison, base_dates
from ._errors import InvalidWindow, StatsError
from ._model import (
    METRIC_NAMES,
    AccountRef,
    ChannelMetrics,
    ChannelRef,
    Granularity,
    GroupMetrics,
    Metrics,
    OrphanScan,
    SeriesPoint,
    SessionMetrics,
)
from ._query import DEFAULT_DAYS, MAX_SPLITS, Split, StatsQuery
from ._results import Compared, SplitSeries
from ._sql import Scope, key_values, metric_query, metrics_of, orphan_query
from ._window import Window, zone
from .rollups import StatsRollups

__all__ = ["StatsService"]


def _check_splits(count: int) -> None:
    if count > MAX_SPLITS:
        raise StatsError(
            f"a split series draws at most {MAX_SPLITS} lines, this one {count}: "
            "narrow it with channel or group",
            field="split",
        )


_WORK_MEM = "64MB"  # PostgreSQL, per stats query (one sort or hash at a time)


def _granularity(value: Granularity | str) -> Granularity:
    try:
        return Granularity(value)
    except ValueError:
        choices = ", ".join(g.value for g in Granularity)
        raise InvalidWindow(f"unknown granularity {value!r} (choose from {choices})") from None


def _account_ref(account: Account) -> AccountRef:
    return AccountRef(account.id, account.appid, account.name, account.timezone)


_Choice = TypeVar("_Choice", CompareMode, Align, Split, Attribution)


def _choice(kind: type[_Choice], value: str, field: str) -> _Choice:
    try:
        return kind(value.strip())
    except ValueError:
        choices = ", ".join(v.value for v in kind if v.value != "custom")
        message = f"unknown {field} {value!r} (choose from {choices})"
        raise InvalidWindow(message, field=field) from None


def _comparison(
    tz: str,
    date_from: date,
    date_to: date,
    compare: str | None,
    align: str | None,
    compare_from: date | None,
    compare_to: date | None,
) -> Comparison | None:
    """The base window of a query's dates (docs/metrics.md, "Comparisons"), or None."""
    mode = _choice(CompareMode, compare, "compare") if compare else None
    lined = _choice(Align, align, "align") if align else Align.DATE
    if compare_from is not None or compare_to is not None:
        if compare_from is None or compare_to is None:
            missing = "compare_from" if compare_from is None else "compare_to"
            raise InvalidWindow(f"an explicit comparison needs {missing} too", field=missing)
        if mode not in (None, CompareMode.CUSTOM):
            raise InvalidWindow(
                f"compare={mode} and compare_from/compare_to: choose one", field="compare"
            )
        if lined is not Align.DATE:
            raise InvalidWindow("align=weekday goes with compare=previous_year", field="align")
        if compare_from > compare_to:
            raise InvalidWindow(
                f"compare_from {compare_from} is after compare_to {compare_to}",
                field="compare_from",
            )
        window = Window.from_dates(compare_from, compare_to, tz)
        return Comparison(CompareMode.CUSTOM, compare_from, compare_to, window)
    if mode is None:
        if align:
            raise InvalidWindow("align needs compare=previous_year", field="align")
        return None
    start, end = base_dates(mode, date_from, date_to, lined)
    return Comparison(mode, start, end, Window.from_dates(start, end, tz), lined)


def _rank(rows: list[ChannelMetrics], by: str, limit: int) -> list[ChannelMetrics]:
    """The rows with the highest ``by`` (non-zero), ties by channel id (docs/metrics.md)."""
    if by not in METRIC_NAMES:
        raise InvalidWindow(f"unknown metric {by!r} (choose from {', '.join(METRIC_NAMES)})")
    if limit < 1:
        raise StatsError("limit must be at least 1")
    ranked = [row for row in rows if row.metrics.value(by)]
    ranked.sort(key=lambda row: (-row.metrics.value(by), row.channel.id))
    return ranked[:limit]


def _unscoped(query: StatsQuery, what: str) -> None:
    """Refuse a channel or group scope for answers that belong to no channel."""
    if query.channel_ids is not None:
        raise StatsError(f"{what} belong to no channel: drop channel", field="channel")
    if query.group is not None:
        raise StatsError(f"{what} belong to no channel group: drop group", field="group")


class StatsService:
    """Queries over the event log, answered from its rollups where they can (whole days of
    the account's zone), else from the log; one short connection per call. Each query
    first folds the events still queued for the rollups (its only write).

    ``clock`` (Unix seconds) decides what "today" is for queries without dates.
    ``rollups`` False answers everything from the log (the reference path; tests, bench).
    """

    def __init__(
        self, engine: Engine, *, clock: Callable[[], float] = time.time, rollups: bool = True
    ) -> None:
        self._engine = engine
        self._clock = clock
        self.rollups = StatsRollups(engine) if rollups else None

    @contextmanager
    def _connect(self) -> Iterator[Connection]:
        with self._engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                # The per-row EXISTS makes the planner's cost estimate large enough to switch
                # on JIT compilation, which costs far more (~200 ms) than it saves here; the
                # exact COUNT(DISTINCT) sorts in memory rather than on disk.
                conn.exec_driver_sql("SET LOCAL jit = off")
                conn.exec_driver_sql(f"SET LOCAL work_mem = '{_WORK_MEM}'")
            yield conn

    # -- look-ups ------------------------------------------------------------------------

    def account(self, account_id: int) -> AccountRef:
        with self._connect() as conn:
            return _lookup.account_by_id(conn, account_id)

    def account_by_appid(self, appid: str) -> AccountRef:
        return _account_ref(resolve_account(self._engine, appid.strip()))

    def default_account(self) -> AccountRef:
        """The only account (an error when there are none or several)."""
        return _account_ref(resolve_account(self._engine))

    def channels(self, account_id: int, *, group: str | None = None) -> list[ChannelRef]:
        with self._connect() as conn:
            return _lookup.channel_refs(conn, account_id, group=group)

    def resolve_channel(self, account_id: int, ref: str) -> ChannelRef:
        """The account's channel named ``ref``, else the one whose id is ``ref``."""
        with self._connect() as conn:
            return _lookup.resolve_channel(conn, account_id, ref)

    def window(self, account_id: int, date_from: date, date_to: date) -> Window:
        """The inclusive dates ``date_from … date_to`` in the account's time zone."""
        return Window.from_dates(date_from, date_to, self.account(account_id).timezone)

    def today(self, timezone: str) -> date:
        """Today's date in ``timezone`` by the service's clock."""
        return datetime.fromtimestamp(self._clock(), zone(timezone)).date()

    # -- queries -------------------------------------------------------------------------

    def query(
        self,
        account: str | int | None = None,
        *,
        date_from: date | None = None,
        date_to: date | None = None,
        channels: Sequence[str | int] | None = None,
        group: str | None = None,
        granularity: Granularity | str | None = None,
        timezone: str | None = None,
        days: int = DEFAULT_DAYS,
        compare: str | None = None,
        align: str | None = None,
        compare_from: date | None = None,
        compare_to: date | None = None,
        split: str | None = None,
        attribution: str | None = None,
    ) -> StatsQuery:
        """The one way an adapter's raw stats inputs become a checked :class:`StatsQuery`.

        ``account``: appid or id (the only account when None; see
        :func:`wxqr.service.accounts.resolve_account`). Dates are inclusive local dates in
        ``timezone`` (default: the account's); missing ones default to the ``days`` days up
        to today. ``channels``: ids (int) or references (str: ``id:N``, ``name:X``, or a
        plain name or id, 422 when it is both the name of one channel and the id of
        another), each one of the account's; a blank ``group`` is no group; channels and a
        group together are refused (422). ``compare`` (``previous_period``,
        ``previous_year``; ``align=weekday``) or ``compare_from``/``compare_to`` choose the
        base window; ``split`` (``channel``, ``group``) splits a series; ``attribution``
        (``first_touch``, the default, or ``last_touch``) credits unfollows to channels.
        """
        acct = _account_ref(resolve_account(self._engine, account))
        tz = (timezone or "").strip() or acct.timezone
        zone(tz)
        if days < 1:
            raise StatsError("days must be at least 1")
        end = date_to or self.today(tz)
        try:
            start = date_from or end - timedelta(days=days - 1)
        except OverflowError:
            raise InvalidWindow(f"to date {end} is out of range", field="to") from None
        if start > end:
            raise InvalidWindow(f"from date {start} is after to date {end}", field="from")
        window = Window.from_dates(start, end, tz)
        chosen_group = (group or "").strip() or None
        if channels and chosen_group is not None:
            raise StatsError(
                "give channel or group, not both (a group's channels are its scope)",
                field="group",
            )
        comparison = _comparison(tz, start, end, compare, align, compare_from, compare_to)
        chosen_split = _choice(Split, split, "split") if split else None
        model = _choice(Attribution, attribution, "attribution") if attribution else None
        ids: tuple[int, ...] | None = None
        if channels:
            with self._connect() as conn:
                found = [
                    _lookup.channel_by_id(conn, acct.id, ref)
                    if isinstance(ref, int)
                    else _lookup.resolve_channel(conn, acct.id, ref)
                    for ref in channels
                ]
            ids = tuple(dict.fromkeys(ref.id for ref in found))
        return StatsQuery(
            account=acct,
            date_from=start,
            date_to=end,
            window=window,
            channel_ids=ids,
            group=chosen_group,
            granularity=_granularity(granularity or Granularity.DAY),
            timezone=tz,
            compare=comparison,
            split=chosen_split,
            attribution=model or Attribution.FIRST_TOUCH,
        )

    def summary_of(self, query: StatsQuery) -> Metrics:
        return self.summary(
            query.account.id,
            query.window,
            channel_ids=query.channel_ids,
            group=query.group,
            attribution=query.attribution,
        )

    def channels_of(self, query: StatsQuery) -> list[ChannelMetrics]:
        """Every channel in the query's scope (its group, then its channels)."""
        rows = self.per_channel(
            query.account.id, query.window, group=query.group, attribution=query.attribution
        )
        if query.channel_ids is None:
            return rows
        wanted = set(query.channel_ids)
        return [row for row in rows if row.channel.id in wanted]

    def groups_of(self, query: StatsQuery) -> list[GroupMetrics]:
        """Every group of the account, or only the query's ``group``; a query narrowed to
        channels is refused (a group's row holds all its channels: ask for channels)."""
        if query.channel_ids is not None:
            raise StatsError(
                "the per-group table cannot be narrowed to channels: use group, "
                "or the per-channel table",
                field="channel",
            )
        rows = self.per_group(query.account.id, query.window, attribution=query.attribution)
        if query.group is None:
            return rows
        with self._connect() as conn:  # an unknown group is not found, as everywhere
            _lookup.scope_channel_ids(conn, query.account.id, None, query.group)
        return [row for row in rows if row.group == query.group]

    def series_of(self, query: StatsQuery) -> list[SeriesPoint]:
        return self.series(
            query.account.id,
            query.window,
            query.granularity,
            channel_ids=query.channel_ids,
            group=query.group,
            attribution=query.attribution,
        )

    def top_of(self, query: StatsQuery, by: str = "scans", limit: int = 10) -> list[ChannelMetrics]:
        """The channels of the query's scope with the highest ``by`` (see top_channels)."""
        _rank([], by, limit)  # a bad metric or limit fails before any query
        return _rank(self.channels_of(query), by, limit)

    def orphans_of(self, query: StatsQuery) -> list[OrphanScan]:
        """Orphan scans are in no channel or group: a scoped query is refused (422)."""
        _unscoped(query, "orphan scans")
        return self.orphan_scans(query.account.id, query.window)

    def sessions_of(self, query: StatsQuery) -> list[SessionMetrics]:
        """The ``sessions`` pseudo-scope by purpose (in no channel: a scope is refused)."""
        _unscoped(query, "scan sessions")
        return self.per_session_purpose(query.account.id, query.window)

    # -- comparisons (docs/metrics.md, "Comparisons") ----------------------------------

    @staticmethod
    def _base(query: StatsQuery) -> StatsQuery | None:
        """The same query over its comparison window (None: no comparison)."""
        if query.compare is None:
            return None
        base = query.compare
        return replace(
            query,
            date_from=base.date_from,
            date_to=base.date_to,
            window=base.window,
            compare=None,
            split=None,
        )

    def compared_summary_of(self, query: StatsQuery) -> Compared[Metrics]:
        """The summary, and its change from the base window when the query compares."""
        current = self.summary_of(query)
        base = self._base(query)
        change = Change.of(current, self.summary_of(base)) if base is not None else None
        return Compared(current, change)

    def compared_channels_of(self, query: StatsQuery) -> list[Compared[ChannelMetrics]]:
        """Each channel of the scope beside the same channel over the base window."""
        rows = self.channels_of(query)
        base = self._base(query)
        if base is None:
            return [Compared(row, None) for row in rows]
        before = {row.channel.id: row.metrics for row in self.channels_of(base)}
        return [
            Compared(row, Change.of(row.metrics, before.get(row.channel.id, Metrics.zero())))
            for row in rows
        ]

    def compared_groups_of(self, query: StatsQuery) -> list[Compared[GroupMetrics]]:
        """Each group beside the same group over the base window."""
        rows = self.groups_of(query)
        base = self._base(query)
        if base is None:
            return [Compared(row, None) for row in rows]
        before = {row.group: row.metrics for row in self.groups_of(base)}
        return [
            Compared(row, Change.of(row.metrics, before.get(row.group, Metrics.zero())))
            for row in rows
        ]

    def compared_series_of(self, query: StatsQuery) -> list[Compared[SeriesPoint]]:
        """The series, each point beside the base series' point at the same position
        (the base window's buckets, same granularity); a point with no counterpart (the
        base has fewer buckets: a shorter month, a DST day) has no change."""
        points = self.series_of(query)
        base = self._base(query)
        if base is None:
            return [Compared(point, None) for point in points]
        before = self.series_of(base)
        return [
            Compared(
                point,
                Change.of(
                    point.metrics,
                    before[i].metrics,
                    base_start=before[i].start,
                    base_end=before[i].end,
                )
                if i < len(before)
                else None,
            )
            for i, point in enumerate(points)
        ]

    def split_series_of(self, query: StatsQuery) -> list[SplitSeries]:
        """The series of each channel (``split=channel``) or group (``split=group``) of
        the query's scope, for one chart: channels by id, groups by name (no group last).

        ``split=channel`` without channels takes the group's (or the account's) channels;
        ``split=group`` takes every group (or the query's one) and refuses channels. At
        most :data:`MAX_SPLITS` series. Each point is compared as in
        :meth:`compared_series_of`. No split: an empty list.
        """
        if query.split is None:
            return []
        if query.split is Split.GROUP:
            if query.channel_ids is not None:
                raise StatsError("split=group splits by group: drop channel", field="split")
            with self._connect() as conn:
                if query.group is not None:
                    _lookup.scope_channel_ids(conn, query.account.id, None, query.group)
                refs = _lookup.channel_refs(conn, query.account.id, group=query.group)
            members: dict[str | None, list[int]] = {}
            for ref in refs:
                members.setdefault(ref.group, []).append(ref.id)
            names = sorted(members, key=lambda name: (name is None, name or ""))
            _check_splits(len(names))
            return [
                SplitSeries(
                    None,
                    name,
                    self.compared_series_of(
                        replace(query, channel_ids=tuple(members[name]), group=None, split=None)
                    ),
                )
                for name in names
            ]
        with self._connect() as conn:
            refs = _lookup.channel_refs(conn, query.account.id, group=query.group)
        if query.channel_ids is not None:
            wanted = set(query.channel_ids)
            refs = [ref for ref in refs if ref.id in wanted]
        _check_splits(len(refs))
        return [
            SplitSeries(
                ref,
                ref.group,
                self.compared_series_of(
                    replace(query, channel_ids=(ref.id,), group=None, split=None)
                ),
            )
            for ref in refs
        ]

    # -- metrics -------------------------------------------------------------------------

    def summary(
        self,
        account_id: int,
        window: Window,
        *,
        channel_ids: Iterable[int] | None = None,
        group: str | None = None,
        attribution: Attribution = Attribution.FIRST_TOUCH,
    ) -> Metrics:
        """The account's metrics, or those of the given channels / group (their union)."""
        caught_up = self._catch_up()
        with self._connect() as conn:
            scope = self._scope(conn, account_id, channel_ids, group, attribution)
            if scope.channel_ids == ():
                return Metrics.zero()
            span = self._span(conn, account_id, window, caught_up)
            if span is not None:
                reader = rollup.RollupReader(conn, account_id, attribution)
                return rollup.summary(reader, span, scope.channel_ids)
            query = metric_query(scope, window.start_s, window.end_s)
            return metrics_of(conn.execute(query).first())

    def per_channel(
        self,
        account_id: int,
        window: Window,
        *,
        group: str | None = None,
        attribution: Attribution = Attribution.FIRST_TOUCH,
    ) -> list[ChannelMetrics]:
        """Every channel of the account (or of ``group``), zero-filled, by channel id."""
        caught_up = self._catch_up()
        with self._connect() as conn:
            refs = _lookup.channel_refs(conn, account_id, group=group)
            ids = tuple(ref.id for ref in refs)
            scope = Scope(account_id, ids if group is not None else None, attribution)
            values: dict[Any, Metrics] = {}
            span = self._span(conn, account_id, window, caught_up) if ids else None
            if span is not None:
                reader = rollup.RollupReader(conn, account_id, attribution)
                values = dict(rollup.per_owner(reader, span, ids, every_channel=group is None))
            elif ids:
                query = metric_query(
                    scope,
                    window.start_s,
                    window.end_s,
                    key=lambda e: e.c.channel_id,
                    channel_rows_only=True,
                )
                values = key_values(conn.execute(query).all())
        zero = Metrics.zero()  # one value for every quiet channel (it is frozen)
        return [ChannelMetrics(ref, values.get(ref.id, zero)) for ref in refs]

    def per_group(
        self,
        account_id: int,
        window: Window,
        *,
        attribution: Attribution = Attribution.FIRST_TOUCH,
    ) -> list[GroupMetrics]:
        """Every group of the account's channels (None: no group), by name, None last."""
        caught_up = self._catch_up()
        with self._connect() as conn:
            refs = _lookup.channel_refs(conn, account_id)
            sizes: dict[str | None, int] = {}
            members: dict[Any, list[int]] = {}
            for ref in refs:
                sizes[ref.group] = sizes.get(ref.group, 0) + 1
                members.setdefault(ref.group, []).append(ref.id)
            values: dict[Any, Metrics] = {}
            span = self._span(conn, account_id, window, caught_up) if refs else None
            if span is not None:
                reader = rollup.RollupReader(conn, account_id, attribution)
                values = rollup.per_group(reader, span, members)
            elif refs:
                query = metric_query(
                    Scope(account_id, attribution=attribution),
                    window.start_s,
                    window.end_s,
                    key=lambda _e: channels.c.group_name,
                    join_channels=channels,
                )
                values = key_values(conn.execute(query).all())
        order = sorted(sizes, key=lambda name: (name is None, name or ""))
        return [GroupMetrics(name, sizes[name], values.get(name, Metrics.zero())) for name in order]

    def series(
        self,
        account_id: int,
        window: Window,
        granularity: Granularity | str,
        *,
        channel_ids: Iterable[int] | None = None,
        group: str | None = None,
        attribution: Attribution = Attribution.FIRST_TOUCH,
    ) -> list[SeriesPoint]:
        """The window in buckets of the window's zone (else the account's), zero-filled."""
        unit = _granularity(granularity)
        caught_up = self._catch_up() and unit is not Granularity.HOUR
        with self._connect() as conn:
            account = _lookup.account_by_id(conn, account_id)
            tz = zone(window.tz or account.timezone)
            plan = plan_buckets(window.start_s, window.end_s, tz, unit)
            scope = self._scope(conn, account_id, channel_ids, group, attribution)
            values: dict[Any, Metrics] = {}
            span = self._span(conn, account_id, window, caught_up)
            if scope.channel_ids != () and span is not None:
                days = span.days
                buckets = [
                    (
                        max(days.day(plan.starts[i]), span.first),
                        min(days.day(plan.starts[i + 1]), span.end),
                    )
                    for i in range(plan.count)
                ]
                reader = rollup.RollupReader(conn, account_id, attribution)
                found = rollup.series(reader, span, buckets, scope.channel_ids)
                values = dict(enumerate(found))
            elif scope.channel_ids != () and plan.count == 1:
                query = metric_query(scope, window.start_s, window.end_s)
                values = {0: metrics_of(conn.execute(query).first())}
            elif scope.channel_ids != ():
                query = metric_query(
                    scope,
                    window.start_s,
                    window.end_s,
                    key=lambda e: plan.index_sql(e.c.create_time),
                )
                values = {int(k): v for k, v in key_values(conn.execute(query).all()).items()}
        points = []
        for i in range(plan.count):
            start, end = plan.bounds(i)
            points.append(SeriesPoint(start, end, values.get(i, Metrics.zero())))
        return points

    def top_channels(
        self,
        account_id: int,
        window: Window,
        by: str = "scans",
        limit: int = 10,
        *,
        attribution: Attribution = Attribution.FIRST_TOUCH,
    ) -> list[ChannelMetrics]:
        """The channels with the highest ``by`` (non-zero), ties by channel id."""
        if by not in METRIC_NAMES:
            raise InvalidWindow(f"unknown metric {by!r} (choose from {', '.join(METRIC_NAMES)})")
        if limit < 1:
            raise StatsError("limit must be at least 1")
        rows = self.per_channel(account_id, window, attribution=attribution)
        rows = [row for row in rows if row.metrics.value(by)]
        rows.sort(key=lambda row: (-row.metrics.value(by), row.channel.id))
        return rows[:limit]

    def per_session_purpose(self, account_id: int, window: Window) -> list[SessionMetrics]:
        """Scans and follows through scan sessions, per purpose (the purpose is part of a
        session's scene, so it outlives the pruned session rows), by purpose."""
        start = PURPOSE_START + 1  # SQL substr is 1-based
        with self._connect() as conn:
            query = metric_query(
                Scope(account_id),
                window.start_s,
                window.end_s,
                key=lambda e: func.substr(e.c.scene, start),
                only=lambda e: e.c.scene.like(
                    SESSION_SCENE_PREFIX.replace("_", "\\_") + "%", escape="\\"
                ),
            )
            values = key_values(conn.execute(query).all())
        return [SessionMetrics(purpose, values[purpose]) for purpose in sorted(values)]

    def orphan_scans(self, account_id: int, window: Window) -> list[OrphanScan]:
        """Scans of scenes unknown when they arrived, per scene, most scanned first."""
        with self._connect() as conn:
            account = _lookup.account_by_id(conn, account_id)
            tz = zone(window.tz or account.timezone)
            rows = conn.execute(orphan_query(account_id, window.start_s, window.end_s)).all()
        return [
            OrphanScan(
                scene=str(row.scene),
                scans=int(row.scans),
                unique_scanners=int(row.unique_scanners),
                follows=int(row.follows or 0),
                first_seen=datetime.fromtimestamp(int(row.first_seen), tz),
                last_seen=datetime.fromtimestamp(int(row.last_seen), tz),
            )
            for row in rows
        ]

    # -- helpers -------------------------------------------------------------------------

    def _catch_up(self) -> bool:
        """Fold the queued events first: True when the rollups may answer."""
        return self.rollups is not None and self.rollups.catch_up()

    @staticmethod
    def _span(
        conn: Connection, account_id: int, window: Window, caught_up: bool
    ) -> rollup.DaySpan | None:
        """The window's rollup days, when the rollups are current and can serve it."""
        return rollup.day_span(conn, account_id, window) if caught_up else None

    @staticmethod
    def _scope(
        conn: Connection,
        account_id: int,
        channel_ids: Iterable[int] | None,
        group: str | None,
        attribution: Attribution = Attribution.FIRST_TOUCH,
    ) -> Scope:
        _lookup.account_by_id(conn, account_id)
        ids = _lookup.scope_channel_ids(conn, account_id, channel_ids, group)
        return Scope(account_id, ids, attribution)
