"""What the dashboard's pages show, gathered from the services (no SQL here)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from wxqr.i18n import N_, Language
from wxqr.service.channels import Channel, ChannelStatus
from wxqr.service.code_expiry import display_status
from wxqr.service.codes import Code
from wxqr.service.stats import METRIC_NAMES, Metrics, SeriesPoint, StatsQuery
from wxqr.service.workspace import Workspace

__all__ = ["ChannelRow", "ListView", "channel_rows", "chart_json", "export_headers"]

METRIC_LABELS = {
    "scans": N_("Scans"),
    "unique_scanners": N_("Unique scanners"),
    "new_followers": N_("New followers"),
    "returning_followers": N_("Returning"),
    "unfollows": N_("Unfollows"),
    "net_followers": N_("Net followers"),
}


# The export columns' labels (METRIC_LABELS for the metrics).
COLUMN_LABELS = {
    "channel_id": N_("Channel id"),
    "channel": N_("Channel"),
    "group": N_("Group"),
    "status": N_("Status"),
    "channels": N_("Channels"),
    "start": N_("From"),
    "end": N_("To"),
    "scene": N_("Scene"),
    "follows": N_("Follows"),
    "first_seen": N_("First seen"),
    "last_seen": N_("Last seen"),
}


def export_headers(lang: Language) -> dict[str, str]:
    """Every export column's label in ``lang``."""
    labels = {**COLUMN_LABELS, **METRIC_LABELS}
    headers = {name: label.render(lang) for name, label in labels.items()}
    # A comparing export's columns: each metric's base value, change and percent change.
    for name, label in METRIC_LABELS.items():
        metric = label.render(lang)
        headers[f"base_{name}"] = lang.gettext("%(metric)s (base)") % {"metric": metric}
        headers[f"change_{name}"] = lang.gettext("%(metric)s change") % {"metric": metric}
        headers[f"percent_{name}"] = lang.gettext("%(metric)s change %%") % {"metric": metric}
    headers["base_start"] = lang.gettext("Base from")
    headers["base_end"] = lang.gettext("Base to")
    return headers


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


def channel_rows(ws: Workspace, query: StatsQuery, *, archived: bool) -> ListView:
    """The channel list: each channel's metrics today and over ``query``'s dates."""
    account_id = query.account.id
    status = None if archived else ChannelStatus.ACTIVE
    channels = ws.channels.list_channels(account_id, status=status)
    codes = ws.codes.current_codes([c.id for c in channels])
    today = ws.stats.query(account_id, days=1, timezone=query.timezone)
    today_by_id = {r.channel.id: r.metrics for r in ws.stats.channels_of(today)}
    window_by_id = {r.channel.id: r.metrics for r in ws.stats.channels_of(query)}
    now = ws.clock()
    soon = ws.settings.expiring_notice_seconds
    zero = Metrics.zero()  # one frozen value for every quiet channel
    rows = [
        ChannelRow(
            channel=c,
            code=codes.get(c.id),
            code_status=display_status(codes.get(c.id), now, soon),  # lifecycle: expiring
            today=today_by_id.get(c.id, zero),
            window=window_by_id.get(c.id, zero),
        )
        for c in channels
    ]
    return ListView(
        rows=rows,
        today_total=ws.stats.summary_of(today),
        window_total=ws.stats.summary_of(query),
    )


def chart_json(points: list[SeriesPoint], lang: Language) -> str:
    """The daily series as the JSON the chart script reads (safe inside a script tag)."""
    data = {
        "labels": [p.start.date().isoformat() for p in points],
        "series": [
            {
                "key": name,
                "label": METRIC_LABELS[name].render(lang),
                "values": [p.metrics.value(name) for p in points],
            }
            for name in METRIC_NAMES
        ],
    }
    # "<" escaped so the JSON can never close the <script> element it sits in.
    return json.dumps(data).replace("<", "\\u003c")
