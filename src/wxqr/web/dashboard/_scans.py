"""The feed of recent scans: a page that lists the account's last scans and polls for new
ones (``scans.json?after=ID`` every few seconds, no reload), with orphan scans marked
and one click to make their scene a channel.

Thin over :func:`wxqr.service.scan_feed.recent_scans`; the account comes from the user's
scoped workspace, so the feed holds only their accounts.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse

from wxqr.service.scan_feed import MAX_FEED, recent_scans
from wxqr.web.dashboard._errors import DashboardRoute
from wxqr.web.dashboard._guard import Viewer, ViewerFile, common
from wxqr.web.dashboard._pages import _pick_account
from wxqr.web.dashboard._templates import language_of, page

__all__ = ["router"]

router = APIRouter(prefix="/dashboard", include_in_schema=False, route_class=DashboardRoute)

FEED_SIZE = 30


@router.get("/scans")
def scans_page(request: Request, visit: Viewer, account: str | None = None) -> Response:
    acct = _pick_account(visit.ws, account)
    if acct is None:
        return page(request, "base.html", **common(visit, None))
    scans = recent_scans(visit.ws.engine, acct.id, limit=FEED_SIZE)
    return page(
        request,
        "scans.html",
        **common(visit, acct),
        scans=scans,
        last_id=max((s.id for s in scans), default=0),
        timezone=acct.timezone,
    )


@router.get("/scans.json")
def scans_since(
    request: Request,
    visit: ViewerFile,
    account: str | None = None,
    after: Annotated[int, Query(ge=0, le=2**62)] = 0,
) -> Response:
    """The scans after ``after`` (the feed's newest id), newest first, for the poll."""
    acct = _pick_account(visit.ws, account)
    if acct is None:
        return JSONResponse({"detail": "no account"}, status_code=404)
    lang = language_of(request)
    zone = ZoneInfo(acct.timezone)
    scans = recent_scans(visit.ws.engine, acct.id, limit=MAX_FEED, after=after)
    return JSONResponse(
        {
            "scans": [
                {
                    "id": s.id,
                    "time": lang.datetime(
                        datetime.fromtimestamp(s.create_time, UTC).astimezone(zone), "short"
                    ),
                    "followed": s.followed,
                    "scene": s.scene,
                    "channel_id": s.channel_id,
                    "channel": s.channel,
                    "orphan": s.orphan,
                    "who": s.who,
                }
                for s in scans
            ]
        },
        headers={"Cache-Control": "no-store"},
    )
