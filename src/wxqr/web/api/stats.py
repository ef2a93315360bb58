"""``/api/v1/stats``: thin over :mod:`wxqr.service.stats` (metrics defined in docs/metrics.md).

Windows are inclusive local dates ``from``/``to`` in the account's time zone (default:
the last 30 days up to today). ``channel`` (name or id, repeatable) and ``group`` narrow
the scope to those channels. The query parameters become one
:class:`~wxqr.service.stats.StatsQuery` (checked by the service); the export's tables
and files are built by :mod:`wxqr.service.stats.export`.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Response

from wxqr.service.stats import METRIC_NAMES, StatsQuery
from wxqr.service.stats.export import XLSX, export_file
from wxqr.web.api._context import WS
from wxqr.web.api._problems import ProblemRoute

__all__ = ["router", "stats_query"]

router = APIRouter(prefix="/stats", tags=["stats"], route_class=ProblemRoute)

GranularityName = Literal["hour", "day", "week", "month"]


def stats_query(
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
    granularity: Annotated[
        GranularityName, Query(description="Series buckets (series and export).")
    ] = "day",
) -> StatsQuery:
    return ws.stats.query(
        account,
        date_from=date_from,
        date_to=date_to,
        channels=channel,
        group=group,
        granularity=granularity,
    )


Scope = Annotated[StatsQuery, Depends(stats_query)]


@router.get("/summary", summary="The six metrics over the window")
def summary(query: Scope, ws: WS) -> dict[str, Any]:
    return {**query.head(), "metrics": ws.stats.summary_of(query).as_dict()}


@router.get("/channels", summary="The metrics of every channel")
def per_channel(query: Scope, ws: WS) -> dict[str, Any]:
    items = [
        {
            "channel_id": row.channel.id,
            "name": row.channel.name,
            "group": row.channel.group,
            "status": row.channel.status,
            "metrics": row.metrics.as_dict(),
        }
        for row in ws.stats.channels_of(query)
    ]
    return {**query.head(), "items": items}


@router.get("/groups", summary="The metrics of every channel group")
def per_group(query: Scope, ws: WS) -> dict[str, Any]:
    items = [
        {"group": row.group, "channels": row.channel_count, "metrics": row.metrics.as_dict()}
        for row in ws.stats.groups_of(query)
    ]
    return {**query.head(), "items": items}


@router.get("/series", summary="The metrics per hour, day, ISO week or month (zero-filled)")
def series(query: Scope, ws: WS) -> dict[str, Any]:
    return {
        **query.head(),
        "granularity": query.granularity.value,
        "points": [
            {"start": p.start.isoformat(), "end": p.end.isoformat(), **p.metrics.as_dict()}
            for p in ws.stats.series_of(query)
        ],
    }


@router.get("/top", summary="The channels with the highest value of one metric")
def top(
    query: Scope,
    ws: WS,
    by: Annotated[str, Query(description="One of: " + ", ".join(METRIC_NAMES))] = "scans",
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
) -> dict[str, Any]:
    items = [
        {"channel_id": r.channel.id, "name": r.channel.name, "metrics": r.metrics.as_dict()}
        for r in ws.stats.top_of(query, by=str(by), limit=limit)
    ]
    return {**query.head(), "by": by, "items": items}


@router.get("/orphans", summary="Scans of scenes wxqr did not know (orphan scans)")
def orphans(query: Scope, ws: WS) -> dict[str, Any]:
    items = [
        {
            "scene": r.scene,
            "scans": r.scans,
            "unique_scanners": r.unique_scanners,
            "follows": r.follows,
            "first_seen": r.first_seen.isoformat(),
            "last_seen": r.last_seen.isoformat(),
        }
        for r in ws.stats.orphans_of(query)
    ]
    return {**query.head(), "items": items}


@router.get(
    "/export",
    summary="A stats table or series as CSV or XLSX",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}, XLSX: {}}}},
)
def export(
    query: Scope,
    ws: WS,
    table: Literal["summary", "channels", "groups", "series", "orphans"] = "channels",
    format: Literal["csv", "xlsx"] = "csv",
) -> Response:
    file = export_file(ws.stats, query, table, format)
    return Response(
        file.content,
        media_type=file.media_type,
        headers={"Content-Disposition": f'attachment; filename="{file.filename}"'},
    )
