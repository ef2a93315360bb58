"""The metric queries (SQLAlchemy Core, the same SQL on SQLite and PostgreSQL).

One pass over the window's events of the scope computes all six metrics with conditional
aggregates; the database does the counting, including the exact ``COUNT(DISTINCT openid)``.
Whether a follow is *returning* is a correlated ``EXISTS`` probe for an earlier follow of the
same openid — ordered by ``(create_time, id)`` over the account's whole log — served by the
``(account_id, openid, create_time)`` index and evaluated for follow rows only. An
unfollow's channel, when the query needs one, is its attribution model's follow (the first
or the latest follow of the openid before it), found the same way at query time.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    FromClause,
    Integer,
    Row,
    Select,
    and_,
    case,
    distinct,
    exists,
    func,
    literal_column,
    or_,
    select,
    true,
)
from sqlalchemy.sql.expression import Label

from wxqr.store.tables import events

from ._attribution import Attribution
from ._model import Metrics

__all__ = [
    "COUNTED_KINDS",
    "FOLLOW_KINDS",
    "SCAN_KINDS",
    "Scope",
    "key_values",
    "metric_query",
    "metrics_of",
    "orphan_query",
    "scoped_events",
]

SCAN_KINDS = ("subscribe_scan", "scan")
FOLLOW_KINDS = ("subscribe_scan", "subscribe")
UNFOLLOW_KIND = "unsubscribe"
COUNTED_KINDS = ("subscribe_scan", "scan", "subscribe", "unsubscribe")

_ONE = literal_column("1", Integer)
_ZERO = literal_column("0", Integer)


@dataclass(frozen=True, slots=True)
class Scope:
    """The events a query counts: an account's, or only those of some of its channels."""

    account_id: int
    channel_ids: tuple[int, ...] | None = None  # already checked to be the account's
    attribution: Attribution = Attribution.FIRST_TOUCH


def _touch_channel(e: FromClause, attribution: Attribution) -> ColumnElement[Any]:
    """The channel of the unfollow row's first (or latest) earlier follow of its openid."""
    prior = events.alias("touch")
    order = (
        (prior.c.create_time, prior.c.id)
        if attribution is Attribution.FIRST_TOUCH
        else (prior.c.create_time.desc(), prior.c.id.desc())
    )
    return (
        select(prior.c.channel_id)
        .where(
            prior.c.account_id == e.c.account_id,
            prior.c.openid == e.c.openid,
            prior.c.create_time <= e.c.create_time,
            prior.c.kind.in_(FOLLOW_KINDS),
            or_(prior.c.create_time < e.c.create_time, prior.c.id < e.c.id),
        )
        .order_by(*order)
        .limit(1)
        .scalar_subquery()
    )


def attributed_events(scope: Scope, start_s: int, end_s: int) -> FromClause:
    """The account's counted events in the window, with an unfollow's ``channel_id`` that
    of the follow its attribution model credits (other rows keep theirs). A channel scope
    keeps only its channels' rows and the unfollows (narrowed by the caller)."""
    e = events.alias("raw")
    channel = case(
        (e.c.kind == UNFOLLOW_KIND, _touch_channel(e, scope.attribution)),
        else_=e.c.channel_id,
    )
    where = and_(
        e.c.account_id == scope.account_id,
        e.c.create_time >= start_s,
        e.c.create_time < end_s,
        e.c.kind.in_(COUNTED_KINDS),
    )
    if scope.channel_ids is not None:
        where = and_(where, or_(e.c.channel_id.in_(scope.channel_ids), e.c.kind == UNFOLLOW_KIND))
    columns = [c for c in e.c if c.name != "channel_id"]
    return select(*columns, channel.label("channel_id")).where(where).subquery("e")


def scoped_events(
    scope: Scope, start_s: int, end_s: int, *, by_channel: bool = False
) -> tuple[FromClause, ColumnElement[bool]]:
    """The events (an alias or a subquery) and the WHERE clause of the scope's events in
    the window.

    A channel scope, or ``by_channel`` (the caller groups by channel), needs each
    unfollow's attributed channel: the rows come from :func:`attributed_events`. The
    account's totals do not, and read the table through its ``(account_id, create_time)``
    index.
    """
    if scope.channel_ids is not None or by_channel:
        a = attributed_events(scope, start_s, end_s)
        if scope.channel_ids is None:
            return a, true()
        return a, a.c.channel_id.in_(scope.channel_ids)
    e = events.alias("e")
    where = and_(
        e.c.account_id == scope.account_id,
        e.c.create_time >= start_s,
        e.c.create_time < end_s,
        e.c.kind.in_(COUNTED_KINDS),
    )
    return e, where


def _earlier_follow(e: FromClause) -> ColumnElement[bool]:
    """EXISTS an earlier follow (by ``(create_time, id)``) of this row's openid."""
    prior = events.alias("prior")
    return exists().where(
        prior.c.account_id == e.c.account_id,
        prior.c.openid == e.c.openid,
        prior.c.create_time <= e.c.create_time,
        prior.c.kind.in_(FOLLOW_KINDS),
        or_(prior.c.create_time < e.c.create_time, prior.c.id < e.c.id),
    )


def metric_columns(e: FromClause) -> list[Label[Any]]:
    """scans, unique_scanners, follows, returning, unfollows (new = follows - returning)."""
    is_scan = e.c.kind.in_(SCAN_KINDS)
    is_follow = e.c.kind.in_(FOLLOW_KINDS)
    returning = case((_earlier_follow(e), _ONE), else_=_ZERO)
    return [
        func.sum(case((is_scan, _ONE), else_=_ZERO)).label("scans"),
        func.sum(case((e.c.kind == "subscribe_scan", _ONE), else_=_ZERO)).label("follow_scans"),
        func.count(distinct(case((is_scan, e.c.openid)))).label("unique_scanners"),
        func.sum(case((is_follow, _ONE), else_=_ZERO)).label("follows"),
        func.sum(case((is_follow, returning), else_=_ZERO)).label("refollows"),
        func.sum(case((e.c.kind == UNFOLLOW_KIND, _ONE), else_=_ZERO)).label("unfollows"),
    ]


def metric_query(
    scope: Scope,
    start_s: int,
    end_s: int,
    *,
    key: Callable[[FromClause], ColumnElement[Any]] | None = None,
    join_channels: FromClause | None = None,
    channel_rows_only: bool = False,
    only: Callable[[FromClause], ColumnElement[bool]] | None = None,
    by_channel: bool = False,
) -> Select[Any]:
    """The metrics of the scope in the window, grouped by ``key(events_alias)`` when given.

    The key is selected first, labelled ``key``. ``join_channels`` (the channels table) is
    inner-joined on ``channel_id`` so that the key may be one of its columns.
    ``channel_rows_only`` skips events of no channel; ``only(events_alias)`` narrows the
    events further (the ``sessions`` pseudo-scope: session scenes). ``by_channel``: the
    key or the join reads ``channel_id`` (so unfollows need their attributed channel).
    """
    by_channel = by_channel or channel_rows_only or join_channels is not None
    e, where = scoped_events(scope, start_s, end_s, by_channel=by_channel)
    if channel_rows_only:
        where = and_(where, e.c.channel_id.is_not(None))
    if only is not None:
        where = and_(where, only(e))
    columns: list[Any] = metric_columns(e)
    source: FromClause = e
    if join_channels is not None:
        source = e.join(join_channels, join_channels.c.id == e.c.channel_id)
    if key is None:
        return select(*columns).select_from(source).where(where)
    key_column = key(e)
    return (
        select(key_column.label("key"), *columns)
        .select_from(source)
        .where(where)
        .group_by(key_column)
    )


def metrics_of(row: Row[Any] | None) -> Metrics:
    if row is None:
        return Metrics.zero()
    mapping = row._mapping
    follows = int(mapping["follows"] or 0)
    returning = int(mapping["refollows"] or 0)
    return Metrics.of(
        scans=int(mapping["scans"] or 0),
        unique_scanners=int(mapping["unique_scanners"] or 0),
        new_followers=follows - returning,
        returning_followers=returning,
        unfollows=int(mapping["unfollows"] or 0),
        follow_scans=int(mapping["follow_scans"] or 0),
    )


def orphan_query(account_id: int, start_s: int, end_s: int) -> Select[Any]:
    """Orphan scans in the window, per scene, most scanned first."""
    e = events.alias("e")
    scans = func.count().label("scans")
    return (
        select(
            e.c.scene,
            scans,
            func.count(distinct(e.c.openid)).label("unique_scanners"),
            func.sum(case((e.c.kind == "subscribe_scan", _ONE), else_=_ZERO)).label("follows"),
            func.min(e.c.create_time).label("first_seen"),
            func.max(e.c.create_time).label("last_seen"),
        )
        .where(
            e.c.account_id == account_id,
            e.c.create_time >= start_s,
            e.c.create_time < end_s,
            e.c.kind.in_(SCAN_KINDS),
            e.c.orphan.is_(true()),
        )
        .group_by(e.c.scene)
        .order_by(scans.desc(), e.c.scene)
    )


def key_values(rows: Sequence[Row[Any]]) -> dict[Any, Metrics]:
    """``{key: Metrics}`` of a grouped metric query's rows."""
    return {row._mapping["key"]: metrics_of(row) for row in rows}
