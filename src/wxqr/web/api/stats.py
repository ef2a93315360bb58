"""``/api/v1/stats``: thin over :mod:`wxqr.service.stats` (metrics defined in docs/metrics.md).

Windows are inclusive local dates ``from``/``to`` in the account's time zone (default:
the last 30 days up to today). ``channel`` (name or id, repeatable) and ``group`` narrow
the scope to those channels.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Response

from wxqr.service.accounts import Account
from wxqr.service.stats import METRIC_NAMES, Granularity, Window
from wxqr.service.stats import export as stats_export
from wxqr.service.workspace import Workspace
from wxqr.web.api._context import WS
from wxqr.web.api._problems import ProblemRoute

__all__ = ["StatsScope", "export_response", "export_table", "router", "stats_scope"]

router = APIRouter(prefix="/stats", tags=["stats"], route_class=ProblemRoute)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
GranularityName = Literal["hour", "day", "week", "month"]


@dataclass(frozen=True)
class StatsScope:
    account: Account
    date_from: date
    date_to: date
    window: Window
    channel_ids: list[int] | None
    group: str | None

    def head(self) -> dict[str, Any]:
        return {
            "account": self.account.appid,
            "from": self.date_from.isoformat(),
            "to": self.date_to.isoformat(),
            "timezone": self.account.timezone,
            "channel_ids": self.channel_ids,
            "group": self.group,
        }


def stats_scope(
    ws: WS,
    account: Annotated[str | None, Query(description="appid (optional with one account)")] = None,
    date_from: Annotated[
        date | None, Query(alias="from", description="First day (inclusive).")
    ] = None,
    date_to: Annotated[date | None, Query(alias="to", description="Last day (inclusive).")] = None,
    channel: Annotated[
        list[str] | None, Query(description="Channel name or id; repeatable.")
    ] = None,
    group: Annotated[str | None, Query(description="Channel group.")] = None,
) -> StatsScope:
    acct = ws.account(account)
    start, end = ws.recent_dates(acct, date_from, date_to)
    ids = [ws.channels.find(acct.id, ref).id for ref in channel] if channel else None
    window = ws.stats.window(acct.id, start, end)
    return StatsScope(acct, start, end, window, ids, group)


Scope = Annotated[StatsScope, Depends(stats_scope)]


@router.get("/summary", summary="The six metrics over the window")
def summary(scope: Scope, ws: WS) -> dict[str, Any]:
    metrics = ws.stats.summary(
        scope.account.id, scope.window, channel_ids=scope.channel_ids, group=scope.group
    )
    return {**scope.head(), "metrics": metrics.as_dict()}


@router.get("/channels", summary="The metrics of every channel")
def per_channel(scope: Scope, ws: WS) -> dict[str, Any]:
    rows = ws.stats.per_channel(scope.account.id, scope.window, group=scope.group)
    wanted = set(scope.channel_ids) if scope.channel_ids is not None else None
    items = [
        {
            "channel_id": row.channel.id,
            "name": row.channel.name,
            "group": row.channel.group,
            "status": row.channel.status,
            "metrics": row.metrics.as_dict(),
        }
        for row in rows
        if wanted is None or row.channel.id in wanted
    ]
    return {**scope.head(), "items": items}


@router.get("/groups", summary="The metrics of every channel group")
def per_group(scope: Scope, ws: WS) -> dict[str, Any]:
    rows = ws.stats.per_group(scope.account.id, scope.window)
    items = [
        {"group": row.group, "channels": row.channel_count, "metrics": row.metrics.as_dict()}
        for row in rows
    ]
    return {**scope.head(), "items": items}


@router.get("/series", summary="The metrics per hour, day, ISO week or month (zero-filled)")
def series(scope: Scope, ws: WS, granularity: GranularityName = "day") -> dict[str, Any]:
    points = ws.stats.series(
        scope.account.id,
        scope.window,
        Granularity(granularity),
        channel_ids=scope.channel_ids,
        group=scope.group,
    )
    return {
        **scope.head(),
        "granularity": granularity,
        "points": [
            {"start": p.start.isoformat(), "end": p.end.isoformat(), **p.metrics.as_dict()}
            for p in points
        ],
    }


@router.get("/top", summary="The channels with the highest value of one metric")
def top(
    scope: Scope,
    ws: WS,
    by: Annotated[str, Query(description="One of: " + ", ".join(METRIC_NAMES))] = "scans",
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
) -> dict[str, Any]:
    rows = ws.stats.top_channels(scope.account.id, scope.window, by=str(by), limit=limit)
    items = [
        {"channel_id": r.channel.id, "name": r.channel.name, "metrics": r.metrics.as_dict()}
        for r in rows
    ]
    return {**scope.head(), "by": by, "items": items}


@router.get("/orphans", summary="Scans of scenes wxqr did not know (orphan scans)")
def orphans(scope: Scope, ws: WS) -> dict[str, Any]:
    rows = ws.stats.orphan_scans(scope.account.id, scope.window)
    items = [
        {
            "scene": r.scene,
            "scans": r.scans,
            "unique_scanners": r.unique_scanners,
            "follows": r.follows,
            "first_seen": r.first_seen.isoformat(),
            "last_seen": r.last_seen.isoformat(),
        }
        for r in rows
    ]
    return {**scope.head(), "items": items}


def export_table(
    ws: Workspace, scope: StatsScope, table: str, granularity: GranularityName
) -> stats_export.Table:
    """The stats table ``table`` of ``scope`` (shared with the dashboard's export buttons)."""
    account_id, window = scope.account.id, scope.window
    if table == "summary":
        metrics = ws.stats.summary(
            account_id, window, channel_ids=scope.channel_ids, group=scope.group
        )
        return stats_export.summary_table(metrics)
    if table == "channels":
        rows = ws.stats.per_channel(account_id, window, group=scope.group)
        if scope.channel_ids is not None:
            rows = [r for r in rows if r.channel.id in scope.channel_ids]
        return stats_export.channel_table(rows)
    if table == "groups":
        return stats_export.group_table(ws.stats.per_group(account_id, window))
    if table == "orphans":
        return stats_export.orphan_table(ws.stats.orphan_scans(account_id, window))
    points = ws.stats.series(
        account_id,
        window,
        Granularity(granularity),
        channel_ids=scope.channel_ids,
        group=scope.group,
    )
    return stats_export.series_table(points)


def export_response(data: stats_export.Table, file_format: str, stem: str) -> Response:
    if file_format == "xlsx":
        content = stats_export.to_xlsx(data)
        media = XLSX
    else:
        content = stats_export.to_csv(data)
        media = "text/csv; charset=utf-8"
    return Response(
        content,
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="{stem}.{file_format}"'},
    )


@router.get(
    "/export",
    summary="A stats table or series as CSV or XLSX",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}, XLSX: {}}}},
)
def export(
    scope: Scope,
    ws: WS,
    table: Literal["summary", "channels", "groups", "series", "orphans"] = "channels",
    format: Literal["csv", "xlsx"] = "csv",
    granularity: GranularityName = "day",
) -> Response:
    data = export_table(ws, scope, table, granularity)
    stem = f"wxqr-{table}-{scope.date_from.isoformat()}-{scope.date_to.isoformat()}"
    return export_response(data, format, stem)
