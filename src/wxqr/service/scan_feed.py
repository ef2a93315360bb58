"""The feed of recent scans: the last scans of an account, newest first, for the dashboard
to poll (``after``: only the scans since the last one it showed).

A scan is an event of kind ``subscribe_scan`` (the scan made them follow) or ``scan``.
Openids are shortened to their last characters: the feed is for watching a campaign run,
not for identifying people. The caller passes an account it resolved through its scoped
workspace (:meth:`wxqr.service.workspace.Workspace.account`), so the scope holds.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, select

from wxqr.store.tables import channels, events

__all__ = ["MAX_FEED", "RecentScan", "recent_scans"]

MAX_FEED = 100
_SCAN_KINDS = ("subscribe_scan", "scan")


@dataclass(frozen=True, slots=True)
class RecentScan:
    id: int
    create_time: int  # WeChat's CreateTime, Unix seconds
    followed: bool  # the scan made them follow
    scene: str | None
    channel_id: int | None
    channel: str | None
    orphan: bool
    who: str  # the openid's last characters


def _short(openid: str) -> str:
    return "…" + openid[-6:]


def recent_scans(
    engine: Engine, account_id: int, *, limit: int = 20, after: int | None = None
) -> list[RecentScan]:
    """The account's last ``limit`` scans (at most :data:`MAX_FEED`), newest first; with
    ``after``, only those with a greater id (new since the feed's last one)."""
    limit = max(1, min(limit, MAX_FEED))
    query = (
        select(
            events.c.id,
            events.c.create_time,
            events.c.kind,
            events.c.scene,
            events.c.channel_id,
            channels.c.name,
            events.c.orphan,
            events.c.openid,
        )
        .select_from(events.outerjoin(channels, channels.c.id == events.c.channel_id))
        .where(events.c.account_id == account_id, events.c.kind.in_(_SCAN_KINDS))
        .order_by(events.c.create_time.desc(), events.c.id.desc())
        .limit(limit)
    )
    if after is not None:
        query = query.where(events.c.id > after)
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return [
        RecentScan(
            id=int(r.id),
            create_time=int(r.create_time),
            followed=r.kind == "subscribe_scan",
            scene=r.scene,
            channel_id=r.channel_id,
            channel=r.name,
            orphan=bool(r.orphan),
            who=_short(str(r.openid)),
        )
        for r in rows
    ]
