"""``/api/v1/stats``: thin over :mod:`wxqr.service.stats` (metrics defined in docs/metrics.md).

Windows are inclusive local dates ``from``/``to`` in the account's time zone (default:
the last 30 days up to today). ``channel`` (``id:N``, ``name:X``, or a plain name or id;
repeatable) or ``group`` narrow the scope to those channels. ``compare`` (or
``compare_from``/``compare_to``) sets each answer beside a base window; ``split`` answers
a series per channel or group; ``attribution`` (``first_touch``, ``last_touch``) says which
follow an unfollow is credited to. The query parameters become one
:class:`~wxqr.service.stats.StatsQuery` (checked by the service); the export's tables
and files are built by :mod:`wxqr.service.stats.export`.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal, get_args

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from wxqr.service.stats import METRIC_NAMES, Change, Compared, SeriesPoint, StatsQuery
from wxqr.service.stats.export import XLSX, export_file
from wxqr.web.api._context import WS
from wxqr.web.api._problems import ProblemRoute

__all__ = ["router", "stats_query"]

router = APIRouter(prefix="/stats", tags=["stats"], route_class=ProblemRoute)

GranularityName = Literal["hour", "day", "week", "month", "quarter", "year"]
CompareName = Literal["previous_period", "previous_year"]
AlignName = Literal["date", "weekday"]
SplitName = Literal["channel", "group"]
AttributionName = Literal["first_touch", "last_touch"]
MetricName = Literal[
    "scans", "unique_scanners", "new_followers", "returning_followers", "unfollows", "net_followers"
]
if get_args(MetricName) != METRIC_NAMES:  # pragma: no cover - the service's names changed
    raise RuntimeError("MetricName must list exactly wxqr.service.stats.METRIC_NAMES")


def stats_query(
    ws: WS,
    account: Annotated[str | None, Query(description="appid (optional with one account)")] = None,
    date_from: Annotated[
        date | None, Query(alias="from", description="First day (inclusive).")
    ] = None,
    date_to: Annotated[date | None, Query(alias="to", description="Last day (inclusive).")] = None,
    channel: Annotated[
        list[str] | None,
        Query(
            description="Channel: id:N, name:X, or a plain name or id (422 when it is both "
            "one channel's name and another's id); repeatable. Not with group."
        ),
    ] = None,
    group: Annotated[str | None, Query(description="Channel group (not with channel).")] = None,
    granularity: Annotated[
        GranularityName, Query(description="Series buckets (series and export).")
    ] = "day",
    compare: Annotated[
        CompareName | None,
        Query(description="Compare with the previous period or the previous year."),
    ] = None,
    align: Annotated[
        AlignName | None,
        Query(description="previous_year: weekday = 364 days earlier (same weekday)."),
    ] = None,
    compare_from: Annotated[
        date | None, Query(description="An explicit base window: first day (inclusive).")
    ] = None,
    compare_to: Annotated[
        date | None, Query(description="An explicit base window: last day (inclusive).")
    ] = None,
    split: Annotated[
        SplitName | None, Query(description="Series: one series per channel or group too.")
    ] = None,
    attribution: Annotated[
        AttributionName,
        Query(
            description="Unfollows count for the channel of the user's first follow before "
            "them (first_touch) or of the follow they end (last_touch)."
        ),
    ] = "first_touch",
) -> StatsQuery:
    return ws.stats.query(
        account,
        date_from=date_from,
        date_to=date_to,
        channels=channel,
        group=group,
        granularity=granularity,
        compare=compare,
        align=align,
        compare_from=compare_from,
        compare_to=compare_to,
        split=split,
        attribution=attribution,
    )


Scope = Annotated[StatsQuery, Depends(stats_query)]


class Metrics(BaseModel):
    """The six metrics (docs/metrics.md)."""

    scans: int
    unique_scanners: int
    new_followers: int
    returning_followers: int
    unfollows: int
    net_followers: int


class ConversionOut(BaseModel):
    """Conversion (docs/metrics.md, "Conversion"): scans that brought a follow, scans by
    existing followers, and new followers ÷ unique scanners (null when nobody scanned)."""

    follow_scans: int
    follower_scans: int
    conversion_rate: float | None


class MetricPercents(BaseModel):
    """The percent change of each metric (null where the base is 0)."""

    scans: float | None
    unique_scanners: float | None
    new_followers: float | None
    returning_followers: float | None
    unfollows: float | None
    net_followers: float | None


class CompareOut(BaseModel):
    """An answer's base (the same scope over the comparison window) and the change."""

    metrics: Metrics = Field(description="The base window's metrics.")
    change: Metrics = Field(description="current − base, per metric.")
    percent: MetricPercents = Field(description="(current − base) / |base| × 100.")


class PointCompareOut(CompareOut):
    """A series point's base: the base series' bucket at the same position."""

    start: str
    end: str


class ComparisonOut(BaseModel):
    """The comparison window (docs/metrics.md, "Comparisons")."""

    model_config = ConfigDict(populate_by_name=True)

    mode: Literal["previous_period", "previous_year", "custom"]
    align: AlignName
    date_from: str = Field(alias="from")
    date_to: str = Field(alias="to")


class _Head(BaseModel):
    """What the query was: put before every stats answer."""

    model_config = ConfigDict(populate_by_name=True)

    account: str
    date_from: str = Field(alias="from", description="First day (inclusive), ISO date.")
    date_to: str = Field(alias="to", description="Last day (inclusive), ISO date.")
    timezone: str
    channel_ids: list[int] | None
    group: str | None
    comparison: ComparisonOut | None = None
    attribution: AttributionName = Field(
        "first_touch", description="The unfollow attribution model (docs/metrics.md)."
    )


def _compare(change: Change | None) -> dict[str, Any] | None:
    """The ``compare`` object of an answer (None: no comparison)."""
    if change is None:
        return None
    out: dict[str, Any] = change.as_dict()
    if change.base_start is not None and change.base_end is not None:
        out |= {"start": change.base_start.isoformat(), "end": change.base_end.isoformat()}
    return out


class SummaryOut(_Head):
    metrics: Metrics
    conversion: ConversionOut
    compare: CompareOut | None = None


class ChannelMetricsOut(BaseModel):
    channel_id: int
    name: str
    group: str | None
    status: str
    metrics: Metrics
    conversion: ConversionOut
    compare: CompareOut | None = None


class ChannelsOut(_Head):
    items: list[ChannelMetricsOut]


class GroupMetricsOut(BaseModel):
    group: str | None
    channels: int
    metrics: Metrics
    conversion: ConversionOut
    compare: CompareOut | None = None


class GroupsOut(_Head):
    items: list[GroupMetricsOut]


class SessionMetricsOut(BaseModel):
    purpose: str
    metrics: Metrics


class SessionsOut(_Head):
    items: list[SessionMetricsOut]


class SeriesPointOut(Metrics):
    start: str
    end: str
    conversion: ConversionOut
    compare: PointCompareOut | None = None


class SplitOut(BaseModel):
    """One line of a split series: a channel's (``channel_id``) or a group's."""

    channel_id: int | None
    name: str | None
    group: str | None
    points: list[SeriesPointOut]


class SeriesOut(_Head):
    granularity: GranularityName
    points: list[SeriesPointOut]
    split: SplitName | None = None
    splits: list[SplitOut] | None = None


class TopChannelOut(BaseModel):
    channel_id: int
    name: str
    metrics: Metrics
    conversion: ConversionOut


class TopOut(_Head):
    by: MetricName
    items: list[TopChannelOut]


class OrphanOut(BaseModel):
    scene: str
    scans: int
    unique_scanners: int
    follows: int
    first_seen: str
    last_seen: str


class OrphansOut(_Head):
    items: list[OrphanOut]


def _head(query: StatsQuery) -> dict[str, Any]:
    return query.head()


_MODEL_OPTIONS: dict[str, Any] = {"response_model_by_alias": True}


@router.get(
    "/summary",
    response_model=SummaryOut,
    summary="The six metrics over the window",
    **_MODEL_OPTIONS,
)
def stats_summary(query: Scope, ws: WS) -> SummaryOut:
    answer = ws.stats.compared_summary_of(query)
    return SummaryOut.model_validate(
        {
            **_head(query),
            "metrics": answer.value.as_dict(),
            "conversion": answer.value.conversion(),
            "compare": _compare(answer.change),
        }
    )


@router.get(
    "/channels",
    response_model=ChannelsOut,
    summary="The metrics of every channel",
    **_MODEL_OPTIONS,
)
def stats_per_channel(query: Scope, ws: WS) -> ChannelsOut:
    items = [
        ChannelMetricsOut.model_validate(
            {
                "channel_id": row.value.channel.id,
                "name": row.value.channel.name,
                "group": row.value.channel.group,
                "status": str(row.value.channel.status),
                "metrics": row.value.metrics.as_dict(),
                "conversion": row.value.metrics.conversion(),
                "compare": _compare(row.change),
            }
        )
        for row in ws.stats.compared_channels_of(query)
    ]
    return ChannelsOut.model_validate({**_head(query), "items": items})


@router.get(
    "/groups",
    response_model=GroupsOut,
    summary="The metrics of every channel group (or of the one given)",
    **_MODEL_OPTIONS,
)
def stats_per_group(query: Scope, ws: WS) -> GroupsOut:
    items = [
        GroupMetricsOut.model_validate(
            {
                "group": row.value.group,
                "channels": row.value.channel_count,
                "metrics": row.value.metrics.as_dict(),
                "conversion": row.value.metrics.conversion(),
                "compare": _compare(row.change),
            }
        )
        for row in ws.stats.compared_groups_of(query)
    ]
    return GroupsOut.model_validate({**_head(query), "items": items})


@router.get(
    "/series",
    response_model=SeriesOut,
    summary="The metrics per hour, day, ISO week, month, quarter or year (zero-filled)",
    **_MODEL_OPTIONS,
)
def stats_series(query: Scope, ws: WS) -> SeriesOut:
    splits = None
    if query.split is not None:
        splits = [
            {
                "channel_id": line.channel.id if line.channel else None,
                "name": line.channel.name if line.channel else None,
                "group": line.group,
                "points": _points(line.points),
            }
            for line in ws.stats.split_series_of(query)
        ]
    return SeriesOut.model_validate(
        {
            **_head(query),
            "granularity": query.granularity.value,
            "points": _points(ws.stats.compared_series_of(query)),
            "split": query.split.value if query.split else None,
            "splits": splits,
        }
    )


def _points(points: list[Compared[SeriesPoint]]) -> list[dict[str, Any]]:
    return [
        {
            "start": p.value.start.isoformat(),
            "end": p.value.end.isoformat(),
            **p.value.metrics.as_dict(),
            "conversion": p.value.metrics.conversion(),
            "compare": _compare(p.change),
        }
        for p in points
    ]


@router.get(
    "/top",
    response_model=TopOut,
    summary="The channels with the highest value of one metric",
    **_MODEL_OPTIONS,
)
def stats_top(
    query: Scope,
    ws: WS,
    by: Annotated[MetricName, Query(description="The metric to rank by.")] = "scans",
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
) -> TopOut:
    items = [
        TopChannelOut(
            channel_id=r.channel.id,
            name=r.channel.name,
            metrics=Metrics(**r.metrics.as_dict()),
            conversion=ConversionOut.model_validate(r.metrics.conversion()),
        )
        for r in ws.stats.top_of(query, by=str(by), limit=limit)
    ]
    return TopOut.model_validate({**_head(query), "by": by, "items": items})


@router.get(
    "/orphans",
    response_model=OrphansOut,
    summary="Scans of scenes wxqr did not know (orphan scans)",
    **_MODEL_OPTIONS,
)
def stats_orphans(query: Scope, ws: WS) -> OrphansOut:
    items = [
        OrphanOut(
            scene=r.scene,
            scans=r.scans,
            unique_scanners=r.unique_scanners,
            follows=r.follows,
            first_seen=r.first_seen.isoformat(),
            last_seen=r.last_seen.isoformat(),
        )
        for r in ws.stats.orphans_of(query)
    ]
    return OrphansOut.model_validate({**_head(query), "items": items})


@router.get(
    "/sessions",
    response_model=SessionsOut,
    summary="The pseudo-scope sessions: scans and follows through scan sessions, by purpose",
    **_MODEL_OPTIONS,
)
def stats_sessions(query: Scope, ws: WS) -> SessionsOut:
    items = [
        SessionMetricsOut(purpose=r.purpose, metrics=Metrics(**r.metrics.as_dict()))
        for r in ws.stats.sessions_of(query)
    ]
    return SessionsOut.model_validate({**_head(query), "items": items})


@router.get(
    "/export",
    summary="A stats table or series as CSV or XLSX",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}, XLSX: {}}}},
)
def stats_export(
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
