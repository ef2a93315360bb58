"""``wxqr stats``: the channel metrics of docs/metrics.md as a table, JSON or CSV.

JSON: the account summary is one object whose keys are exactly the six metric names and
the conversion (``follow_scans``, ``follower_scans``, ``conversion_rate``); a
series is a list of ``{"start", "end", <the six metrics>}``; ``--by channel`` a list of
``{"channel_id", "channel", "group", <metrics>}``; ``--by group`` a list of
``{"group", "channels", <metrics>}``. With ``--compare`` (or ``--compare-from`` and
``--compare-to``) each row also holds ``base_<metric>``, ``change_<metric>`` and
``percent_<metric>`` (docs/metrics.md, "Comparisons"); ``--split channel|group`` turns a
series into one series per channel (or group), each row led by ``channel_id``,
``channel`` and ``group``.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table as RichTable
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from wxqr.cli._ws import start_runtime
from wxqr.service.errors import InvalidInputError, ServiceError
from wxqr.service.stats import (
    DEFAULT_DAYS,
    METRIC_NAMES,
    Attribution,
    Granularity,
    StatsTable,
    export,
)

__all__ = ["Breakdown", "StatsFormat", "stats_command"]

# Column headings of the terminal table (JSON and CSV keep the full names).
_SHORT = {
    "channel_id": "id",
    "unique_scanners": "unique",
    "new_followers": "new",
    "returning_followers": "returning",
    "net_followers": "net",
    "base_start": "vs",
}


class StatsFormat(StrEnum):
    TABLE = "table"
    JSON = "json"
    CSV = "csv"


class Breakdown(StrEnum):
    CHANNEL = "channel"
    GROUP = "group"


class CompareWith(StrEnum):
    PREVIOUS_PERIOD = "previous_period"
    PREVIOUS_YEAR = "previous_year"


class AlignBy(StrEnum):
    DATE = "date"
    WEEKDAY = "weekday"


def _fail(message: str, code: int = 1) -> NoReturn:
    Console(stderr=True).print(f"[bold red]error:[/] {escape(message)}", highlight=False)
    raise typer.Exit(code)


def _parse_date(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        _fail(f"{option} must be a date like 2024-05-31, not {value!r}", code=2)


def _percent_text(value: object) -> str:
    return "—" if value is None else f"{value:+.1f}%"


def _print_table(data: export.Table, caption: str, *, single: bool) -> None:
    compared = "base_scans" in data.columns
    cells = [dict(zip(data.columns, row, strict=True)) for row in data.rows]
    if single:  # one row of metrics reads better as one metric per line
        vertical = RichTable(title=data.title, caption=caption)
        vertical.add_column("metric")
        vertical.add_column("value", justify="right")
        if compared:
            for heading in ("base", "change", "percent"):
                vertical.add_column(heading, justify="right")
        for name in METRIC_NAMES:
            row = cells[0]
            extra: tuple[str, ...] = ()
            if compared:
                change = f"{row[f'change_{name}']:+d}"
                extra = (str(row[f"base_{name}"]), change, _percent_text(row[f"percent_{name}"]))
            vertical.add_row(name, _text(row[name]), *extra)
        for name in export.CONVERSION_COLUMNS:
            if name in row:
                blanks = ("",) * 3 if compared else ()
                vertical.add_row(name, _cell_text(name, row[name]), *blanks)
        Console().print(vertical)
        return
    # A comparison shows as "value (±percent)" per metric; its columns are in JSON and CSV.
    hidden = {"status", "end", "base_end", *export.COMPARE_COLUMNS}
    keep = [name for name in data.columns if name not in hidden]
    table = RichTable(title=data.title, caption=caption)
    for name in keep:
        numeric = name in (*METRIC_NAMES, *export.CONVERSION_COLUMNS, "channel_id", "channels")
        table.add_column(_SHORT.get(name, name), justify="right" if numeric else "left")
    for row in cells:
        texts = []
        for name in keep:
            text = _cell_text(name, row[name])
            if compared and name in METRIC_NAMES and row.get(f"base_{name}") is not None:
                text += f" ({_percent_text(row[f'percent_{name}'])})"
            texts.append(escape(text))
        table.add_row(*texts)
    Console().print(table)


def _cell_text(name: str, value: object) -> str:
    """A cell as the terminal shows it: the conversion rate as a percentage."""
    if name == "conversion_rate":
        return f"{value:.1%}" if isinstance(value, float) else "—"
    return _short_text(value)


def _short_text(value: object) -> str:
    if value is None:
        return ""
    return value.strftime("%Y-%m-%d %H:%M%z") if isinstance(value, datetime) else str(value)


def _text(value: object) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)


def _json_rows(data: export.Table) -> list[dict[str, Any]]:
    return [
        {
            name: _text(v) if isinstance(v, datetime) else v
            for name, v in zip(data.columns, row, strict=True)
        }
        for row in data.rows
    ]


def _emit(data: export.Table, output: StatsFormat, caption: str, *, single: bool) -> None:
    if output is StatsFormat.CSV:
        # With the byte-order mark, as the API's and the dashboard's CSV: Excel then reads
        # the Chinese names of a redirected `> stats.csv` right.
        typer.echo(export.to_csv(data).decode("utf-8"), nl=False)
    elif output is StatsFormat.JSON:
        rows = _json_rows(data)
        typer.echo(json.dumps(rows[0] if single else rows, ensure_ascii=False, indent=2))
    else:
        _print_table(data, caption, single=single)


def _table(series: Granularity | None, by: Breakdown | None) -> StatsTable:
    """Which table the options ask for (an option combination the CLI alone has)."""
    if series is not None:
        if by is not None:
            raise InvalidInputError("--series and --by cannot be combined")
        return StatsTable.SERIES
    if by is Breakdown.GROUP:
        return StatsTable.GROUPS
    if by is Breakdown.CHANNEL:
        return StatsTable.CHANNELS
    return StatsTable.SUMMARY


def stats_command(
    account: Annotated[
        str | None,
        typer.Option(
            "--account", "-a", help="The account's appid (needed only with several accounts)."
        ),
    ] = None,
    channel: Annotated[
        list[str] | None,
        typer.Option(
            "--channel",
            "-c",
            help="A channel: id:N, name:X, or a plain name or id (an error when it is both "
            "one channel's name and another's id); repeat for several (their union).",
        ),
    ] = None,
    group: Annotated[
        str | None,
        typer.Option("--group", "-g", help="Only this channel group (not with --channel)."),
    ] = None,
    date_from: Annotated[
        str | None,
        typer.Option(
            "--from", help=f"First day, YYYY-MM-DD (default: {DEFAULT_DAYS - 1} days before --to)"
        ),
    ] = None,
    date_to: Annotated[
        str | None, typer.Option("--to", help="Last day (inclusive), YYYY-MM-DD (default: today)")
    ] = None,
    series: Annotated[
        Granularity | None,
        typer.Option(
            "--series", help="Split the window into hour, day, ISO week or month buckets."
        ),
    ] = None,
    by: Annotated[
        Breakdown | None, typer.Option("--by", help="One row per channel or per group.")
    ] = None,
    output: Annotated[
        StatsFormat, typer.Option("--format", "-f", help="Output format.")
    ] = StatsFormat.TABLE,
    compare: Annotated[
        CompareWith | None,
        typer.Option(
            "--compare",
            help="Compare with the previous period (as many days right before) or the "
            "previous year: adds base_, change_ and percent_ columns.",
        ),
    ] = None,
    align: Annotated[
        AlignBy | None,
        typer.Option("--align", help="With --compare previous_year: weekday = 364 days earlier."),
    ] = None,
    compare_from: Annotated[
        str | None,
        typer.Option("--compare-from", help="Compare with an explicit window: first day."),
    ] = None,
    compare_to: Annotated[
        str | None,
        typer.Option("--compare-to", help="Compare with an explicit window: last day."),
    ] = None,
    split: Annotated[
        Breakdown | None,
        typer.Option(
            "--split", help="With --series: one series per channel or per group (one chart)."
        ),
    ] = None,
    attribution: Annotated[
        Attribution,
        typer.Option(
            "--attribution",
            help="Unfollows count for the channel of the user's first follow before them "
            "(first_touch) or of the follow they end (last_touch, as WeChat's data cube).",
        ),
    ] = Attribution.FIRST_TOUCH,
) -> None:
    """Scans, unique scanners, new / returning followers, unfollows, net (docs/metrics.md).

    Dates are the account's (its time zone). Reads WXQR_DATABASE_URL.
    """
    runtime = start_runtime(migrate=False)
    url = runtime.settings.database_url
    first, last = _parse_date(date_from, "--from"), _parse_date(date_to, "--to")
    base_first = _parse_date(compare_from, "--compare-from")
    base_last = _parse_date(compare_to, "--compare-to")
    try:
        table = _table(series, by)
        if split is not None and table is not StatsTable.SERIES:
            raise InvalidInputError("--split goes with --series")
        service = runtime.workspace.stats
        query = service.query(
            account,
            date_from=first,
            date_to=last,
            channels=channel or None,
            group=group,
            granularity=series,
            days=DEFAULT_DAYS,
            compare=compare.value if compare else None,
            align=align.value if align else None,
            compare_from=base_first,
            compare_to=base_last,
            split=split.value if split else None,
            attribution=attribution.value,
        )
        data = export.build_table(service, query, table)
    except ServiceError as exc:
        _fail(exc.detail)
    except SQLAlchemyError as exc:
        first_line = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        where = make_url(url).render_as_string(hide_password=True)
        _fail(f"cannot read the database {where} ({type(exc).__name__}): {first_line}")
    finally:
        runtime.close()
    caption = f"{query.account.appid} · {query.date_from} … {query.date_to} ({query.timezone})"
    if query.compare is not None:
        base = query.compare
        caption += f" vs {base.date_from} … {base.date_to} ({base.mode.value})"
    if query.attribution is not Attribution.FIRST_TOUCH:
        caption += f" · unfollows by {query.attribution.value}"
    _emit(data, output, caption, single=table is StatsTable.SUMMARY)
