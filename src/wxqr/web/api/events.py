"""``/api/v1/events``: the raw event log, a page at a time."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from wxqr.service.event_log import read_events
from wxqr.web.api._context import WS
from wxqr.web.api._params import INT32_MAX, INT64_MAX, INT64_MIN
from wxqr.web.api._problems import ProblemRoute
from wxqr.web.api._schemas import iso

__all__ = ["router"]

router = APIRouter(prefix="/events", tags=["events"], route_class=ProblemRoute)

Kind = Literal["subscribe_scan", "scan", "subscribe", "unsubscribe", "other_event", "message"]


class EventOut(BaseModel):
    id: int
    kind: str
    openid: str
    msg_type: str
    event: str
    event_key: str
    scene: str | None
    channel_id: int | None
    orphan: bool
    create_time: int
    created_at: str | None
    received_at_ms: int


class EventPageOut(BaseModel):
    items: list[EventOut]
    next_after_id: int | None
    next: str | None


@router.get("", response_model=EventPageOut, summary="The raw event log, in log order")
def list_events(
    request: Request,
    ws: WS,
    account: Annotated[str | None, Query()] = None,
    after_id: Annotated[
        int, Query(ge=0, le=INT64_MAX, description="Continue after this event id.")
    ] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    kind: Kind | None = None,
    channel_id: Annotated[int | None, Query(ge=1, le=INT32_MAX)] = None,
    openid: str | None = None,
    orphan: bool | None = None,
    scene: Annotated[str | None, Query(max_length=64, description="Scans of this scene.")] = None,
    since: Annotated[
        int | None,
        Query(ge=INT64_MIN, le=INT64_MAX, description="Unix seconds (create_time >= since)."),
    ] = None,
    until: Annotated[
        int | None,
        Query(ge=INT64_MIN, le=INT64_MAX, description="Unix seconds (create_time < until)."),
    ] = None,
) -> EventPageOut:
    acct = ws.account(account)
    page = read_events(
        ws.engine,
        acct.id,
        after_id=after_id,
        limit=limit,
        kind=kind,
        channel_id=channel_id,
        openid=openid,
        since=since,
        until=until,
        orphan=orphan,
        scene=scene,
    )
    items = [
        EventOut(
            id=e.id,
            kind=e.kind,
            openid=e.openid,
            msg_type=e.msg_type,
            event=e.event,
            event_key=e.event_key,
            scene=e.scene,
            channel_id=e.channel_id,
            orphan=e.orphan,
            create_time=e.create_time,
            created_at=iso(e.create_time),
            received_at_ms=e.received_at,
        )
        for e in page.events
    ]
    following = None
    if page.next_after_id is not None:
        url = request.url.include_query_params(after_id=page.next_after_id)
        following = f"{url.path}?{url.query}"
    return EventPageOut(items=items, next_after_id=page.next_after_id, next=following)
