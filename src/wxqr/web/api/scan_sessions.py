"""``/api/v1/scan-sessions`` and ``/api/v1/bindings``: scan to log in, to bind, per order.

The keyed routes (``router``) see a session whole, the scanner's openid included. The
browser's routes (``public_router``: ``/{id}/status`` and its SSE twin
``/{id}/status/events``) need no API key but the session's poll token, and tell only the
status and ``scanned_at``. Waiting (``?wait=N``, SSE) goes through the process's one
:class:`~wxqr.service.scan_sessions.SessionWatcher`. docs/scan-sessions.md.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from wxqr.service.scan_sessions import (
    FINAL_STATUSES,
    Binding,
    NewScanSession,
    ScanSession,
)
from wxqr.service.scan_sessions._model import (
    DEFAULT_TTL_SECONDS,
    MAX_REF_LENGTH,
    MAX_TTL_SECONDS,
    MIN_TTL_SECONDS,
)
from wxqr.service.workspace import Workspace
from wxqr.web.api._context import WS, workspace
from wxqr.web.api._params import INT32_MAX
from wxqr.web.api._problems import PROBLEM_RESPONSES, ProblemRoute
from wxqr.web.api._schemas import iso

__all__ = ["bindings_router", "public_router", "router"]


router = APIRouter(prefix="/scan-sessions", tags=["scan sessions"], route_class=ProblemRoute)
bindings_router = APIRouter(prefix="/bindings", tags=["scan sessions"], route_class=ProblemRoute)
public_router = APIRouter(
    prefix="/scan-sessions",
    tags=["scan sessions"],
    route_class=ProblemRoute,
    responses=PROBLEM_RESPONSES,
)

SessionIdPath = Annotated[int, Path(ge=1, le=INT32_MAX, description="The session's id.")]
BindingIdPath = Annotated[int, Path(ge=1, le=INT32_MAX, description="The binding's id.")]
WaitQuery = Annotated[
    int, Query(ge=0, le=30, description="Hold the answer until the status changes (≤ 30 s).")
]
PollToken = Annotated[
    str, Query(min_length=1, max_length=128, description="The session's poll token.")
]
KEEP_ALIVE_SECONDS = 15.0
_BROWSER_HEADERS = {"Access-Control-Allow-Origin": "*", "Cache-Control": "no-store"}


class ScanSessionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    account: str | None = Field(default=None, max_length=64, description="appid (or id).")
    purpose: str = Field(
        min_length=1,
        max_length=32,
        pattern=r"^[A-Za-z0-9_.\-]{1,32}$",
        description='"login", "bind" or a word of yours.',
    )
    ref: str | None = Field(
        default=None, min_length=1, max_length=MAX_REF_LENGTH, description="Your user or order id."
    )
    payload: dict[str, Any] | None = Field(default=None, description="A JSON object ≤ 4 KiB.")
    ttl_seconds: int = Field(default=DEFAULT_TTL_SECONDS, ge=MIN_TTL_SECONDS, le=MAX_TTL_SECONDS)
    once: bool = True
    reply: dict[str, Any] | None = Field(
        default=None, description="The scan's passive reply, as a channel's reply."
    )


class ScanSessionOut(BaseModel):
    id: int
    account: str
    status: str
    purpose: str
    ref: str | None
    payload: dict[str, Any] | None
    once: bool
    openid: str | None
    unionid: str | None
    followed_now: bool | None
    scanned_at: str | None
    expires_at: str | None
    scans: int

    @classmethod
    def of(cls, s: ScanSession) -> ScanSessionOut:
        return cls(
            id=s.id,
            account=s.appid,
            status=s.status.value,
            purpose=s.purpose,
            ref=s.ref,
            payload=s.payload,
            once=s.once,
            openid=s.openid,
            unionid=s.unionid,
            followed_now=s.followed_now,
            scanned_at=iso(s.scanned_at),
            expires_at=iso(s.expires_at),
            scans=s.scans,
        )


class CreatedScanSessionOut(BaseModel):
    id: int
    status: str
    scene: str
    ticket: str | None
    url: str | None
    image_url: str | None
    expires_at: str | None
    poll_token: str
    poll_url: str
    events_url: str


class BrowserStatusOut(BaseModel):
    """What the browser may know: never who scanned."""

    id: int
    status: str
    scanned_at: str | None
    expires_at: str | None

    @classmethod
    def of(cls, s: ScanSession) -> BrowserStatusOut:
        return cls(
            id=s.id,
            status=s.status.value,
            scanned_at=iso(s.scanned_at),
            expires_at=iso(s.expires_at),
        )


class BindingOut(BaseModel):
    id: int
    ref: str
    openid: str
    session_id: int | None
    created_at: str | None

    @classmethod
    def of(cls, b: Binding) -> BindingOut:
        return cls(
            id=b.id,
            ref=b.ref,
            openid=b.openid,
            session_id=b.session_id,
            created_at=iso(b.created_at),
        )


class BindingList(BaseModel):
    items: list[BindingOut]


_SSE = {200: {"content": {"text/event-stream": {}}, "description": "Server-Sent Events"}}


# -- keyed --------------------------------------------------------------------------------
@router.post(
    "", response_model=CreatedScanSessionOut, status_code=201, summary="Create a scan session"
)
def create_session(
    body: ScanSessionIn, ws: WS, request: Request, response: Response
) -> CreatedScanSessionOut:
    account = ws.account(body.account)
    created = ws.scan_sessions.create(
        account.id,
        NewScanSession(
            purpose=body.purpose,
            ref=body.ref,
            payload=body.payload,
            ttl_seconds=body.ttl_seconds,
            once=body.once,
            reply=body.reply,
        ),
    )
    s = created.session
    response.headers["Location"] = f"/api/v1/scan-sessions/{s.id}"
    poll = f"/api/v1/scan-sessions/{s.id}/status?poll_token={created.poll_token}"
    events = f"/api/v1/scan-sessions/{s.id}/status/events?poll_token={created.poll_token}"
    base = str(request.base_url).rstrip("/")
    return CreatedScanSessionOut(
        id=s.id,
        status=s.status.value,
        scene=s.scene,
        ticket=s.ticket,
        url=s.url,
        image_url=s.image_url,
        expires_at=iso(s.expires_at),
        poll_token=created.poll_token,
        poll_url=base + poll,
        events_url=base + events,
    )


@router.get("/{session_id}", response_model=ScanSessionOut, summary="One scan session")
async def get_session(session_id: SessionIdPath, ws: WS, wait: WaitQuery = 0) -> ScanSessionOut:
    def read() -> ScanSession:
        return ws.scan_sessions.get(session_id)

    return ScanSessionOut.of(await _waited(ws, read, wait))


@router.delete("/{session_id}", response_model=ScanSessionOut, summary="Cancel a scan session")
def cancel_session(session_id: SessionIdPath, ws: WS) -> ScanSessionOut:
    return ScanSessionOut.of(ws.scan_sessions.cancel(session_id))


@router.get(
    "/{session_id}/events",
    summary="The session's status as Server-Sent Events",
    response_class=StreamingResponse,
    responses=_SSE,  # type: ignore[arg-type]
)
async def session_events(session_id: SessionIdPath, ws: WS) -> StreamingResponse:
    def read() -> ScanSession:
        return ws.scan_sessions.get(session_id)

    return await _stream(ws, read, lambda s: ScanSessionOut.of(s).model_dump())


@bindings_router.get("", response_model=BindingList, summary="Bindings made by bind sessions")
def list_bindings(
    ws: WS,
    account: Annotated[str | None, Query(max_length=64)] = None,
    ref: Annotated[str | None, Query(min_length=1, max_length=MAX_REF_LENGTH)] = None,
    openid: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
) -> BindingList:
    acct = ws.account(account)
    found = ws.scan_sessions.bindings(acct.id, ref=ref, openid=openid)
    return BindingList(items=[BindingOut.of(b) for b in found])


@bindings_router.delete(
    "/{binding_id}", status_code=204, response_class=Response, summary="Remove a binding"
)
def remove_binding(binding_id: BindingIdPath, ws: WS) -> Response:
    ws.scan_sessions.remove_binding(binding_id)
    return Response(status_code=204)


# -- the browser's (no API key; the poll token) --------------------------------------------
Whole = Annotated[Workspace, Depends(workspace)]


@public_router.get(
    "/{session_id}/status",
    response_model=BrowserStatusOut,
    summary="The session's status for the browser (poll token, no API key)",
)
async def browser_status(
    session_id: SessionIdPath,
    poll_token: PollToken,
    ws: Whole,
    response: Response,
    wait: WaitQuery = 0,
) -> BrowserStatusOut:
    # Any page may poll it (the token is the credential; no cookies are sent).
    response.headers.update(_BROWSER_HEADERS)

    def read() -> ScanSession:
        return ws.scan_sessions.for_browser(session_id, poll_token)

    return BrowserStatusOut.of(await _waited(ws, read, wait))


@public_router.get(
    "/{session_id}/status/events",
    summary="The session's status for the browser as Server-Sent Events",
    response_class=StreamingResponse,
    responses=_SSE,  # type: ignore[arg-type]
)
async def browser_status_events(
    session_id: SessionIdPath, poll_token: PollToken, ws: Whole
) -> StreamingResponse:
    def read() -> ScanSession:
        return ws.scan_sessions.for_browser(session_id, poll_token)

    return await _stream(
        ws, read, lambda s: BrowserStatusOut.of(s).model_dump(), headers=_BROWSER_HEADERS
    )


# -- waiting ------------------------------------------------------------------------------
def _until_change(session: ScanSession, limit: float) -> float:
    """How long to wait: at most ``limit``, and only until just past the expiry (the read
    after it expires the session)."""
    if session.status.value == "pending":
        return max(0.0, min(limit, session.expires_at - time.time() + 1.0))
    return limit


async def _waited(ws: Workspace, read: Callable[[], ScanSession], wait: int) -> ScanSession:
    session = await anyio.to_thread.run_sync(read)
    if wait <= 0 or session.status in FINAL_STATUSES:
        return session
    seen = (session.status.value, session.scans)
    await ws.session_watcher.wait(session.id, seen, _until_change(session, wait))
    return await anyio.to_thread.run_sync(read)


async def _stream(
    ws: Workspace,
    read: Callable[[], ScanSession],
    view: Callable[[ScanSession], Any],
    *,
    headers: dict[str, str] | None = None,
) -> StreamingResponse:
    first = await anyio.to_thread.run_sync(read)  # a 404 before the stream starts

    async def events() -> AsyncIterator[str]:
        session = first
        yield _event(view(session))
        while session.status not in FINAL_STATUSES:
            seen = (session.status.value, session.scans)
            got = await ws.session_watcher.wait(
                session.id, seen, _until_change(session, KEEP_ALIVE_SECONDS)
            )
            session = await anyio.to_thread.run_sync(read)
            if (session.status.value, session.scans) == seen:
                if got == seen:
                    yield ": keep-alive\n\n"
                continue
            yield _event(view(session))

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no", **(headers or {})},
    )


def _event(data: Any) -> str:
    return f"event: status\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"
