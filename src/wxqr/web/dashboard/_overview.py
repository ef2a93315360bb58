"""The overview (the dashboard's landing page) and the live figures of today it polls.

Thin over :func:`wxqr.service.overview.build_overview`: parse the range from the URL (so a
view can be shared), render KPI cards, the trend, the channel comparison, the groups and
the orphan scans, each chart with its table beside it. Plain ``def`` handlers: the store
work runs in FastAPI's thread pool, never on the event loop the webhook shares.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse

from wxqr.i18n import N_, Language
from wxqr.service.errors import ServiceError
from wxqr.service.overview import (
    KPI_METRICS,
    MAX_TOP,
    Overview,
    RangePreset,
    build_overview,
)
from wxqr.service.stats import METRIC_NAMES, Granularity
from wxqr.web.dashboard._errors import DashboardRoute, error_page
from wxqr.web.dashboard._follower_views import audience_json
from wxqr.web.dashboard._guard import Viewer, ViewerFile
from wxqr.web.dashboard._pages import _common, _pick_account
from wxqr.web.dashboard._templates import language_of, page
from wxqr.web.dashboard._views import METRIC_LABELS

__all__ = ["router"]

router = APIRouter(prefix="/dashboard", include_in_schema=False, route_class=DashboardRoute)

PRESET_LABELS = {
    RangePreset.TODAY: N_("Today"),
    RangePreset.YESTERDAY: N_("Yesterday"),
    RangePreset.LAST_7_DAYS: N_("Last 7 days"),
    RangePreset.LAST_30_DAYS: N_("Last 30 days"),
    RangePreset.THIS_MONTH: N_("This month"),
    RangePreset.LAST_MONTH: N_("Last month"),
    RangePreset.CUSTOM: N_("Custom"),
}
COMPARE_LABELS = {
    "previous_period": N_("Previous period"),
    "previous_year": N_("Same weekdays last year"),
}


def _charts_json(view: Overview, lang: Language) -> str:
    """What the overview's charts draw (safe inside a script tag): the trend of the chosen
    metric with the previous period beside it, and the top channels by that metric."""
    metric = view.metric
    data: dict[str, Any] = {
        "metric": metric,
        "metricLabel": METRIC_LABELS[metric].render(lang),
        "previousLabel": COMPARE_LABELS[view.compare].render(lang),
        "labels": [lang.date(p.start.date(), "short") for p in view.series],
        "values": [p.metrics.value(metric) for p in view.series],
        "previous": [p.metrics.value(metric) for p in view.previous_series][: len(view.series)],
        "channels": [row.channel.name for row in view.top],
        "channelValues": [row.metrics.value(metric) for row in view.top],
    }
    return json.dumps(data, ensure_ascii=False).replace("<", "\\u003c")


@router.get("/")
def overview(
    request: Request,
    visit: Viewer,
    account: str | None = None,
    range: Annotated[str, Query(max_length=20)] = RangePreset.LAST_7_DAYS.value,
    date_from: Annotated[date | None, Query(alias="from")] = None,
    to: Annotated[date | None, Query()] = None,
    metric: Annotated[str, Query(max_length=40)] = "scans",
    top: Annotated[int, Query(ge=1, le=MAX_TOP)] = 10,
    compare: Annotated[str, Query(max_length=20)] = "previous_period",
) -> Response:
    ws = visit.ws
    acct = _pick_account(ws, account)
    if acct is None:
        return page(
            request,
            "base.html",
            **_common(visit, None),
            error=N_(
                "No account is configured yet: add one with %(command)s.",
                command="wxqr account add",
            ),
        )
    try:
        view = build_overview(
            ws.stats,
            acct.id,
            preset=range,
            date_from=date_from,
            date_to=to,
            metric=metric,
            top=top,
            compare=compare,
        )
    except ServiceError as exc:
        return error_page(request, exc, **_common(visit, acct))
    lang = language_of(request)
    # The audience (cumulative followers) over the same days, from the follower summaries.
    audience = ws.insights.audience_of(
        ws.stats.query(
            acct.id,
            date_from=view.query.date_from,
            date_to=view.query.date_to,
            granularity=Granularity.DAY,
        ),
        sources=False,
    )
    return page(
        request,
        "overview.html",
        audience=audience,
        audience_data=audience_json(audience.points, lang),
        **_common(visit, acct),
        view=view,
        presets=[(p.value, PRESET_LABELS[p].render(lang)) for p in RangePreset],
        metrics=[(name, METRIC_LABELS[name].render(lang)) for name in METRIC_NAMES],
        kpi_labels={name: METRIC_LABELS[name].render(lang) for name in KPI_METRICS},
        compare_choices=[(value, label.render(lang)) for value, label in COMPARE_LABELS.items()],
        compare_label=COMPARE_LABELS[view.compare].render(lang),
        charts=_charts_json(view, lang),
        timezone=acct.timezone,
    )


@router.get("/today.json")
def today_figures(request: Request, visit: ViewerFile, account: str | None = None) -> Response:
    """Today's KPI figures, polled by the overview to refresh its cards without a reload."""
    ws = visit.ws
    acct = _pick_account(ws, account)
    if acct is None:
        return JSONResponse({"detail": "no account"}, status_code=404)
    query = ws.stats.query(acct.id, days=1)
    totals = ws.stats.summary_of(query)
    lang = language_of(request)
    return JSONResponse(
        {
            "date": query.date_to.isoformat(),
            "timezone": acct.timezone,
            "metrics": {name: totals.value(name) for name in KPI_METRICS},
            "formatted": {name: lang.number(totals.value(name)) for name in KPI_METRICS},
        },
        headers={"Cache-Control": "no-store"},
    )
