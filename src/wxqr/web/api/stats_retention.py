"""``/api/v1/stats/audience``, ``/stats/retention`` (and its CSV export) and
``/stats/reconcile``: thin over :mod:`wxqr.service.stats.insights` (definitions in
docs/metrics.md). The query parameters become one :class:`~wxqr.service.stats.StatsQuery`
built by the (key-scoped) stats service, as for the other stats endpoints.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from wxqr.service.stats import ChannelRef, StatsQuery
from wxqr.service.stats.reconcile import CHINA_TIMEZONE, MAX_RECONCILE_DAYS, Reconciliation
from wxqr.service.stats.retention import MAX_UNFOLLOW_DAYS, Retention, retention_csv
from wxqr.web.api._context import WS
from wxqr.web.api._problems import ProblemRoute

__all__ = ["router"]

router = APIRouter(prefix="/stats", tags=["stats"], route_class=ProblemRoute)

AccountParam = Annotated[str | None, Query(description="appid (optional with one account)")]
FromParam = Annotated[date | None, Query(alias="from", description="First day (inclusive).")]
ToParam = Annotated[date | None, Query(alias="to", description="Last day (inclusive).")]
ChannelParam = Annotated[
    list[str] | None,
    Query(
        description="Only followers first acquired through this channel (name or id); repeatable."
    ),
]
GroupParam = Annotated[
    str | None, Query(description="Only followers first acquired through this group's channels.")
]
CohortParam = Annotated[
    Literal["day", "week", "month"],
    Query(description="Cohorts by the day, ISO week or month of the first follow."),
]
UnfollowDays = Annotated[
    int,
    Query(
        ge=1, le=MAX_UNFOLLOW_DAYS, description="N of the unfollow rate: unfollows within N days."
    ),
]


def _query(
    ws: WS,
    account: AccountParam = None,
    date_from: FromParam = None,
    date_to: ToParam = None,
    channel: ChannelParam = None,
    group: GroupParam = None,
    granularity: Literal["day", "week", "month"] = "day",
) -> StatsQuery:
    return ws.stats.query(
        account,
        date_from=date_from,
        date_to=date_to,
        channels=channel,
        group=group,
        granularity=granularity,
    )


def _retention_query(
    ws: WS,
    account: AccountParam = None,
    date_from: FromParam = None,
    date_to: ToParam = None,
    channel: ChannelParam = None,
    group: GroupParam = None,
) -> StatsQuery:
    return ws.stats.query(
        account, date_from=date_from, date_to=date_to, channels=channel, group=group
    )


def _account_query(
    ws: WS, account: AccountParam = None, date_from: FromParam = None, date_to: ToParam = None
) -> StatsQuery:
    return ws.stats.query(
        account, date_from=date_from, date_to=date_to, timezone=CHINA_TIMEZONE, days=7
    )


class _Head(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    account: str
    date_from: str = Field(alias="from", description="First day (inclusive), ISO date.")
    date_to: str = Field(alias="to", description="Last day (inclusive), ISO date.")
    timezone: str
    channel_ids: list[int] | None
    group: str | None


class FirstTouchChannelOut(BaseModel):
    """A first-touch channel; all null: the followers acquired through no channel."""

    channel_id: int | None
    name: str | None
    group: str | None


def _channel(ref: ChannelRef | None) -> dict[str, Any]:
    if ref is None:
        return {"channel_id": None, "name": None, "group": None}
    return {"channel_id": ref.id, "name": ref.name, "group": ref.group}


class AudiencePointOut(BaseModel):
    start: str
    end: str
    followers: int = Field(description="Following at the bucket's last second.")


class ChannelAudienceOut(FirstTouchChannelOut):
    followers: int


class SourceOut(BaseModel):
    source: str = Field(description="WeChat's subscribe_scene, or unknown (not fetched).")
    followers: int


class AudienceOut(_Head):
    granularity: Literal["day", "week", "month"]
    followers: int = Field(description="Following at the end of the window.")
    points: list[AudiencePointOut]
    channels: list[ChannelAudienceOut]
    sources: list[SourceOut]


class RetentionCellOut(BaseModel):
    day: int
    retained: int | None = Field(description="Null until every member has reached the day.")
    rate: float | None


class CohortOut(BaseModel):
    start: str
    end: str
    followers: int
    retention: list[RetentionCellOut]


class ChannelUnfollowsOut(FirstTouchChannelOut):
    new_followers: int
    unfollowed: int
    unfollow_rate: float | None


class RetentionOut(_Head):
    cohort: Literal["day", "week", "month"]
    days: list[int]
    unfollow_days: int
    cohorts: list[CohortOut]
    channels: list[ChannelUnfollowsOut]


class ReconcileCounts(BaseModel):
    follows: int
    unfollows: int
    code_follows: int


class ReconcileDayOut(BaseModel):
    date: str
    wxqr: ReconcileCounts
    wechat: ReconcileCounts | None = Field(description="Null: WeChat has no data for the day yet.")
    cumulate: int | None = Field(description="WeChat's followers at the end of the day.")
    differences: ReconcileCounts | None = Field(description="WeChat's value minus wxqr's.")
    matches: bool | None
    causes: list[str]


class ReconcileOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    account: str
    date_from: str = Field(alias="from")
    date_to: str = Field(alias="to")
    timezone: str
    fetched_days: int = Field(description="Days asked of WeChat now (the rest were cached).")
    days: list[ReconcileDayOut]


_OPTIONS: dict[str, Any] = {"response_model_by_alias": True}


@router.get(
    "/audience",
    response_model=AudienceOut,
    summary="Followers still following over time, per first-touch channel and follow source",
    **_OPTIONS,
)
def stats_audience(query: Annotated[StatsQuery, Depends(_query)], ws: WS) -> AudienceOut:
    answer = ws.insights.audience_of(query)
    return AudienceOut.model_validate(
        {
            **query.head(),
            "granularity": query.granularity.value,
            "followers": answer.followers,
            "points": [
                {"start": p.start.isoformat(), "end": p.end.isoformat(), "followers": p.followers}
                for p in answer.points
            ],
            "channels": [
                {**_channel(row.channel), "followers": row.followers} for row in answer.channels
            ],
            "sources": [{"source": s.source, "followers": s.followers} for s in answer.sources],
        }
    )


def _retention_body(query: StatsQuery, answer: Retention) -> dict[str, Any]:
    return {
        **query.head(),
        "cohort": answer.cohort.value,
        "days": list(answer.days),
        "unfollow_days": answer.unfollow_days,
        "cohorts": [
            {
                "start": c.start.isoformat(),
                "end": c.end.isoformat(),
                "followers": c.followers,
                "retention": [
                    {"day": cell.day, "retained": cell.retained, "rate": cell.rate}
                    for cell in c.cells
                ],
            }
            for c in answer.cohorts
        ],
        "channels": [
            {
                **_channel(row.channel),
                "new_followers": row.new_followers,
                "unfollowed": row.unfollowed,
                "unfollow_rate": row.rate,
            }
            for row in answer.channels
        ],
    }


@router.get(
    "/retention",
    response_model=RetentionOut,
    summary="Retention (D1, D7, D30, each later week) by cohort, and unfollow rates per channel",
    **_OPTIONS,
)
def stats_retention(
    query: Annotated[StatsQuery, Depends(_retention_query)],
    ws: WS,
    cohort: CohortParam = "week",
    unfollow_days: UnfollowDays = 30,
) -> RetentionOut:
    answer = ws.insights.retention_of(query, cohort=cohort, unfollow_days=unfollow_days)
    return RetentionOut.model_validate(_retention_body(query, answer))


@router.get(
    "/retention/export",
    summary="The retention table (or the channels' unfollow rates) as CSV",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
)
def stats_retention_export(
    query: Annotated[StatsQuery, Depends(_retention_query)],
    ws: WS,
    cohort: CohortParam = "week",
    unfollow_days: UnfollowDays = 30,
    table: Literal["cohorts", "channels"] = "cohorts",
) -> Response:
    answer = ws.insights.retention_of(query, cohort=cohort, unfollow_days=unfollow_days)
    name = f"retention-{table}-{query.account.appid}-{query.date_from}-{query.date_to}.csv"
    return Response(
        retention_csv(answer, table),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _reconcile_body(query: StatsQuery, answer: Reconciliation) -> dict[str, Any]:
    return {
        "account": query.account.appid,
        "from": answer.date_from.isoformat(),
        "to": answer.date_to.isoformat(),
        "timezone": CHINA_TIMEZONE,
        "fetched_days": answer.fetched_days,
        "days": [
            {
                "date": d.day.isoformat(),
                "wxqr": d.wxqr,
                "wechat": d.wechat,
                "cumulate": d.cumulate,
                "differences": d.differences,
                "matches": d.matches,
                "causes": list(d.causes),
            }
            for d in answer.days
        ],
    }


@router.get(
    "/reconcile",
    response_model=ReconcileOut,
    summary=(
        "Per China day, wxqr's follows, unfollows and code follows beside WeChat's data cube "
        f"(at most {MAX_RECONCILE_DAYS} days; default the last 7)"
    ),
    **_OPTIONS,
)
def stats_reconcile(query: Annotated[StatsQuery, Depends(_account_query)], ws: WS) -> ReconcileOut:
    return ReconcileOut.model_validate(_reconcile_body(query, ws.insights.reconcile_of(query)))
