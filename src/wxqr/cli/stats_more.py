"""``wxqr stats audience | retention | reconcile`` (docs/metrics.md), beside ``wxqr stats``.

``wxqr stats`` itself stays what it was (its options run the metrics table): the group's
callback *is* :func:`wxqr.cli.stats.stats_command`, run when no subcommand is named, with
that command's own options (so options added there appear here unchanged).
"""

from __future__ import annotations

import csv
import inspect
import io
import json
from datetime import date
from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table as RichTable

from wxqr.cli._ws import fail, open_runtime
from wxqr.cli.stats import stats_command
from wxqr.service.stats import StatsQuery
from wxqr.service.stats.reconcile import CHINA_TIMEZONE, Reconciliation
from wxqr.service.stats.retention import MAX_UNFOLLOW_DAYS, Retention, retention_csv

__all__ = ["stats_app"]

stats_app = typer.Typer(
    help="Channel metrics (docs/metrics.md); subcommands: audience, retention, reconcile.",
    no_args_is_help=False,
)


def _summary(ctx: typer.Context, **options: Any) -> None:
    if ctx.invoked_subcommand is None:
        stats_command(**options)


_summary.__doc__ = stats_command.__doc__
_summary.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
    [
        inspect.Parameter("ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=typer.Context),
        *inspect.signature(stats_command, eval_str=True).parameters.values(),
    ]
)
stats_app.callback(invoke_without_command=True)(_summary)


class Output(StrEnum):
    TABLE = "table"
    JSON = "json"
    CSV = "csv"


class Cohort(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


class RetentionTable(StrEnum):
    COHORTS = "cohorts"
    CHANNELS = "channels"


Account = Annotated[
    str | None,
    typer.Option(
        "--account", "-a", help="The account's appid (needed only with several accounts)."
    ),
]
Channels = Annotated[
    list[str] | None,
    typer.Option("--channel", "-c", help="Followers first acquired through this channel (repeat)."),
]
Group = Annotated[
    str | None, typer.Option("--group", "-g", help="Followers first acquired through this group.")
]
DateFrom = Annotated[str | None, typer.Option("--from", help="First day, YYYY-MM-DD.")]
DateTo = Annotated[
    str | None, typer.Option("--to", help="Last day (inclusive), YYYY-MM-DD (default: today).")
]
Format = Annotated[Output, typer.Option("--format", "-f", help="Output format.")]


def _date(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        fail(f"{option} must be a date like 2024-05-31, not {value!r}", code=2)


def _percent(rate: float | None) -> str:
    return "" if rate is None else f"{rate:.1%}"


def _caption(query: StatsQuery, timezone: str | None = None) -> str:
    zone = timezone or query.timezone
    return f"{query.account.appid} · {query.date_from} … {query.date_to} ({zone})"


@stats_app.command("audience")
def audience_command(
    account: Account = None,
    channel: Channels = None,
    group: Group = None,
    date_from: DateFrom = None,
    date_to: DateTo = None,
    series: Annotated[
        Cohort, typer.Option("--series", help="Points per day, ISO week or month.")
    ] = Cohort.DAY,
    output: Format = Output.TABLE,
) -> None:
    """Followers still following (cumulative) over time, per first-touch channel, and
    by follow source (WeChat's subscribe_scene)."""
    first, last = _date(date_from, "--from"), _date(date_to, "--to")
    with open_runtime(migrate=False) as runtime:
        ws = runtime.workspace
        query = ws.stats.query(
            account,
            date_from=first,
            date_to=last,
            channels=channel or None,
            group=group,
            granularity=series.value,
        )
        answer = ws.insights.audience_of(query)
    points = [
        {"start": p.start.isoformat(), "end": p.end.isoformat(), "followers": p.followers}
        for p in answer.points
    ]
    channels = [
        {
            "channel_id": row.channel.id if row.channel else None,
            "channel": row.channel.name if row.channel else None,
            "followers": row.followers,
        }
        for row in answer.channels
    ]
    sources = [{"source": s.source, "followers": s.followers} for s in answer.sources]
    if output is Output.JSON:
        body = {"followers": answer.followers, "points": points, "channels": channels}
        typer.echo(json.dumps({**body, "sources": sources}, ensure_ascii=False, indent=2))
        return
    if output is Output.CSV:
        buffer = io.StringIO(newline="")
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(["start", "end", "followers"])
        writer.writerows([p["start"], p["end"], p["followers"]] for p in points)
        typer.echo(buffer.getvalue(), nl=False)
        return
    console = Console()
    table = RichTable(
        title="Audience (following at the end of each bucket)", caption=_caption(query)
    )
    table.add_column("start")
    table.add_column("followers", justify="right")
    for p in answer.points:
        table.add_row(p.start.strftime("%Y-%m-%d"), str(p.followers))
    console.print(table)
    by_channel = RichTable(title="By first-touch channel (end of window)")
    by_channel.add_column("channel")
    by_channel.add_column("followers", justify="right")
    for item in channels:
        by_channel.add_row(escape(str(item["channel"] or "(no channel)")), str(item["followers"]))
    console.print(by_channel)
    by_source = RichTable(title="By follow source (end of window)")
    by_source.add_column("source")
    by_source.add_column("followers", justify="right")
    for source in sources:
        by_source.add_row(escape(str(source["source"])), str(source["followers"]))
    console.print(by_source)


def _retention_json(answer: Retention) -> dict[str, Any]:
    return {
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
                "channel_id": row.channel.id if row.channel else None,
                "channel": row.channel.name if row.channel else None,
                "new_followers": row.new_followers,
                "unfollowed": row.unfollowed,
                "unfollow_rate": row.rate,
            }
            for row in answer.channels
        ],
    }


@stats_app.command("retention")
def retention_command(
    account: Account = None,
    channel: Channels = None,
    group: Group = None,
    date_from: DateFrom = None,
    date_to: DateTo = None,
    cohort: Annotated[
        Cohort, typer.Option("--cohort", help="Cohorts by day, ISO week or month of first follow.")
    ] = Cohort.WEEK,
    unfollow_days: Annotated[
        int,
        typer.Option(
            "--unfollow-days",
            min=1,
            max=MAX_UNFOLLOW_DAYS,
            help="N of the unfollow rate (unfollows within N days of the first follow).",
        ),
    ] = 30,
    table: Annotated[
        RetentionTable,
        typer.Option("--table", help="CSV: the cohorts or the channels' unfollow rates."),
    ] = RetentionTable.COHORTS,
    output: Format = Output.TABLE,
) -> None:
    """Retention (D1, D7, D30, each later week) of the followers acquired in each cohort,
    and the unfollow rate per first-touch channel (default: the last 12 weeks)."""
    first, last = _date(date_from, "--from"), _date(date_to, "--to")
    with open_runtime(migrate=False) as runtime:
        ws = runtime.workspace
        query = ws.stats.query(
            account,
            date_from=first,
            date_to=last,
            channels=channel or None,
            group=group,
            days=84,
        )
        answer = ws.insights.retention_of(query, cohort=cohort.value, unfollow_days=unfollow_days)
    if output is Output.JSON:
        typer.echo(json.dumps(_retention_json(answer), ensure_ascii=False, indent=2))
        return
    if output is Output.CSV:
        typer.echo(retention_csv(answer, table.value).decode("utf-8"), nl=False)
        return
    console = Console()
    cohorts = RichTable(
        title=f"Retention by {answer.cohort.value} of first follow", caption=_caption(query)
    )
    cohorts.add_column("cohort")
    cohorts.add_column("followers", justify="right")
    for day in answer.days:
        cohorts.add_column(f"D{day}", justify="right")
    for c in answer.cohorts:
        cohorts.add_row(
            c.start.strftime("%Y-%m-%d"),
            str(c.followers),
            *(_percent(cell.rate) for cell in c.cells),
        )
    console.print(cohorts)
    rates = RichTable(
        title=f"Unfollow rate within {answer.unfollow_days} days, by first-touch channel"
    )
    for name in ("channel", "new", "unfollowed", "rate"):
        rates.add_column(name, justify="left" if name == "channel" else "right")
    for row in answer.channels:
        name = row.channel.name if row.channel else "(no channel)"
        rates.add_row(escape(name), str(row.new_followers), str(row.unfollowed), _percent(row.rate))
    console.print(rates)


def _reconcile_json(answer: Reconciliation) -> list[dict[str, Any]]:
    return [
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
    ]


@stats_app.command("reconcile")
def reconcile_command(
    account: Account = None,
    date_from: DateFrom = None,
    date_to: DateTo = None,
    output: Format = Output.TABLE,
) -> None:
    """wxqr's follows, unfollows and code follows per China day beside WeChat's data cube
    (getusersummary, getusercumulate; cached), differences flagged with their likely
    cause (default: the last 7 days)."""
    first, last = _date(date_from, "--from"), _date(date_to, "--to")
    with open_runtime(migrate=False) as runtime:
        ws = runtime.workspace
        query = ws.stats.query(
            account, date_from=first, date_to=last, timezone=CHINA_TIMEZONE, days=7
        )
        answer = ws.insights.reconcile_of(query)
    rows = _reconcile_json(answer)
    if output is Output.JSON:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    columns = ("follows", "unfollows", "code_follows")
    if output is Output.CSV:
        buffer = io.StringIO(newline="")
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(
            [
                "date",
                *(f"wxqr_{c}" for c in columns),
                *(f"wechat_{c}" for c in columns),
                "cumulate",
                "causes",
            ]
        )
        for row in rows:
            theirs = row["wechat"] or {}
            writer.writerow(
                [
                    row["date"],
                    *(row["wxqr"][c] for c in columns),
                    *(theirs.get(c, "") for c in columns),
                    row["cumulate"] if row["cumulate"] is not None else "",
                    " ".join(row["causes"]),
                ]
            )
        typer.echo(buffer.getvalue(), nl=False)
        return
    table = RichTable(title="wxqr / WeChat (datacube)", caption=_caption(query, CHINA_TIMEZONE))
    for name in ("date", "follows", "unfollows", "code follows", "cumulate", "causes"):
        table.add_column(name, justify="left" if name in ("date", "causes") else "right")
    for row in rows:
        theirs = row["wechat"]

        def pair(column: str, ours: dict[str, int] = row["wxqr"], other: Any = theirs) -> str:
            return f"{ours[column]} / {other[column]}" if other else f"{ours[column]} / –"

        table.add_row(
            row["date"],
            pair("follows"),
            pair("unfollows"),
            pair("code_follows"),
            "" if row["cumulate"] is None else str(row["cumulate"]),
            escape(", ".join(row["causes"]) or ("ok" if row["matches"] else "")),
        )
    Console().print(table)
