"""What the dashboard's pages show, gathered from the services (no SQL here)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date

from wxqr.service.accounts import Account
from wxqr.service.channels import Channel, ChannelStatus
from wxqr.service.codes import Code
from wxqr.service.stats import METRIC_NAMES, Metrics, SeriesPoint, Window
from wxqr.service.workspace import Workspace

__all__ = ["ChannelRow", "ListView", "channel_rows", "chart_json"]

METRIC_LABELS = {
    "scans": "Scans",
    "unique_scanners": "Unique scanners",
    "new_followers": "New followers",
    "returning_followers": "Returning",
    "unfollows": "Unfollows",
    "net_followers": "Net followers",
}


@dataclass(frozen=True)
class ChannelRow:
    channel: Channel
    code: Code | None
    code_status: str
    today: Metrics
    window: Metrics


@dataclass(frozen=True)
class ListView:
    rows: list[ChannelRow]
    today_total: Metrics
    window_total: Metrics


def channel_rows(
    ws: Workspace, account: Account, date_from: date, date_to: date, *, archived: bool
) -> ListView:
    status = None if archived else ChannelStatus.ACTIVE
    channels = ws.channels.list_channels(account.id, status=status)
    codes = ws.codes.current_codes([c.id for c in channels])
    today = ws.today(account)
    today_window = Window.from_dates(today, today, account.timezone)
    window = Window.from_dates(date_from, date_to, account.timezone)
    today_by_id = {r.channel.id: r.metrics for r in ws.stats.per_channel(account.id, today_window)}
    window_by_id = {r.channel.id: r.metrics for r in ws.stats.per_channel(account.id, window)}
    now = ws.clock()
    rows = [
        ChannelRow(
            channel=c,
            code=codes.get(c.id),
            code_status=codes[c.id].status(now).value if c.id in codes else "no code",
            today=today_by_id.get(c.id, Metrics.zero()),
            window=window_by_id.get(c.id, Metrics.zero()),
        )
        for c in channels
    ]
    return ListView(
        rows=rows,
        today_total=ws.stats.summary(account.id, today_window),
        window_total=ws.stats.summary(account.id, window),
    )


def chart_json(points: list[SeriesPoint]) -> str:
    """The daily series as the JSON the chart script reads (safe inside a script tag)."""
    data = {
        "labels": [p.start.date().isoformat() for p in points],
        "series": [
            {
                "key": name,
                "label": METRIC_LABELS[name],
                "values": [p.metrics.value(name) for p in points],
            }
            for name in METRIC_NAMES
        ],
    }
    # "<" escaped so the JSON can never close the <script> element it sits in.
    return json.dumps(data).replace("<", "\\u003c")
