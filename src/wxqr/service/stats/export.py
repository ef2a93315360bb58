"""Exports of stats tables and series: CSV and XLSX bytes.

``build_table(stats, query, table)`` answers a :class:`StatsQuery` with one of the
tables (summary, channels, groups, series, orphans) and ``export_file`` encodes it: the
REST API, the CLI and the dashboard all get their tables and files here. The pieces:
build a ``Table`` from what the service returned (``summary_table``, ``channel_table``,
``group_table``, ``series_table``, ``orphan_table``), then encode it with ``to_csv`` or
``to_xlsx``. Columns are the metric names of docs/metrics.md, in its order.

- CSV: UTF-8 with a byte-order mark (so spreadsheet programs read Chinese names right),
  ``\\r\\n`` line ends, datetimes in ISO 8601 with their UTC offset. Text is neutralised
  against CSV injection as OWASP advises: a cell that a spreadsheet would run as a formula
  (it starts, after any blanks, with ``= + - @`` or their full-width forms ``＝＋－＠``, or
  with a tab or a carriage return) gets a leading ``'``; and since a spreadsheet that
  splits on another separator (``;`` in much of Europe, tab, ``|``) or ignores quotes
  would start a new cell in the middle of the text, a ``'`` also goes in front of every
  formula character that follows such a separator, a quote or a line break
  (``x;=1+1`` is written ``x;'=1+1``).
- XLSX: one sheet, header row in bold, numbers as numbers, text always as text (never a
  formula), datetimes as local times of the table's zone (spreadsheets have no zones; the
  zone is in the workbook's description) shown with their UTC offset (each cell's number
  format ends with it), so the two 01:00 hours of a DST fall-back day stay apart.

A query that compares (``compare``) adds, after the metric columns, ``base_<metric>``,
``change_<metric>`` and ``percent_<metric>`` for each metric (a series also
``base_start``/``base_end``: the base bucket at the same position); a split series
(``split``) is one row per channel (or group) and bucket, led by ``channel_id``,
``channel`` and ``group``.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from wxqr.service.errors import InvalidInputError

from ._compare import Change
from ._model import METRIC_NAMES, ChannelMetrics, GroupMetrics, Metrics, OrphanScan, SeriesPoint
from ._query import StatsQuery, StatsTable
from ._results import Compared
from ._service import StatsService

__all__ = [
    "COMPARE_COLUMNS",
    "CONVERSION_COLUMNS",
    "FORMATS",
    "XLSX",
    "Cell",
    "ExportFile",
    "SheetExtras",
    "Table",
    "build_table",
    "channel_table",
    "compared_series_table",
    "export_file",
    "group_table",
    "neutralise_csv_text",
    "orphan_table",
    "series_table",
    "summary_table",
    "to_csv",
    "to_xlsx",
]

Cell = str | int | float | datetime | None

#: The conversion columns after the six metrics (docs/metrics.md, "Conversion").
CONVERSION_COLUMNS: tuple[str, ...] = ("follow_scans", "follower_scans", "conversion_rate")
_MEASURES = (*METRIC_NAMES, *CONVERSION_COLUMNS)

#: The columns a comparison adds after the metrics, in this order.
COMPARE_COLUMNS: tuple[str, ...] = (
    *(f"base_{name}" for name in METRIC_NAMES),
    *(f"change_{name}" for name in METRIC_NAMES),
    *(f"percent_{name}" for name in METRIC_NAMES),
)

# A cell starting (after blanks) with one of these is a formula to a spreadsheet; tab and
# CR are the other starts OWASP lists.
_FORMULA_START = re.compile(r"^(?:[ \t\r]*[=+\-@＝＋－＠]|[\t\r])")
# A formula character where a spreadsheet splitting on another separator, a quote or a
# line break would start a cell.
_SMUGGLED_FORMULA = re.compile(r"([,;\t|\"'\r\n][ ]*)(?=[=+\-@＝＋－＠])")

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMATS = {"csv": "text/csv; charset=utf-8", "xlsx": XLSX}


@dataclass(frozen=True, slots=True)
class Table:
    """A titled table of cells, ready to encode."""

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]

    def __post_init__(self) -> None:
        for row in self.rows:
            if len(row) != len(self.columns):
                raise ValueError("every row must have one cell per column")


def _metric_cells(metrics: Metrics) -> tuple[int, ...]:
    return tuple(metrics.value(name) for name in METRIC_NAMES)


def _measure_cells(metrics: Metrics) -> tuple[Cell, ...]:
    """The six metrics, then the conversion."""
    return (*_metric_cells(metrics), *metrics.conversion().values())


def summary_table(metrics: Metrics, title: str = "summary") -> Table:
    return Table(title, _MEASURES, (_measure_cells(metrics),))


def channel_table(rows: Sequence[ChannelMetrics], title: str = "channels") -> Table:
    columns = ("channel_id", "channel", "group", "status", *_MEASURES)
    cells = tuple(
        (
            row.channel.id,
            row.channel.name,
            row.channel.group,
            row.channel.status,
            *_measure_cells(row.metrics),
        )
        for row in rows
    )
    return Table(title, columns, cells)


def group_table(rows: Sequence[GroupMetrics], title: str = "groups") -> Table:
    columns = ("group", "channels", *_MEASURES)
    cells: tuple[tuple[Cell, ...], ...] = tuple(
        (row.group, row.channel_count, *_measure_cells(row.metrics)) for row in rows
    )
    return Table(title, columns, cells)


def series_table(points: Sequence[SeriesPoint], title: str = "series") -> Table:
    columns = ("start", "end", *_MEASURES)
    cells: tuple[tuple[Cell, ...], ...] = tuple(
        (point.start, point.end, *_measure_cells(point.metrics)) for point in points
    )
    return Table(title, columns, cells)


def _change_cells(change: Change | None) -> tuple[Cell, ...]:
    if change is None:
        return (None,) * len(COMPARE_COLUMNS)
    return (
        *_metric_cells(change.base),
        *(change.absolute[name] for name in METRIC_NAMES),
        *(change.percent[name] for name in METRIC_NAMES),
    )


def _with_changes(table: Table, changes: Sequence[Change | None]) -> Table:
    """``table`` with the comparison columns appended (one change per row)."""
    rows = tuple(
        (*row, *_change_cells(change)) for row, change in zip(table.rows, changes, strict=True)
    )
    return Table(table.title, (*table.columns, *COMPARE_COLUMNS), rows)


def compared_series_table(points: Sequence[Compared[SeriesPoint]], title: str) -> Table:
    """A series with each point's base bucket and change."""
    base = series_table([p.value for p in points], title)
    table = _with_changes(base, [p.change for p in points])
    rows = tuple(
        (
            *row,
            p.change.base_start if p.change else None,
            p.change.base_end if p.change else None,
        )
        for row, p in zip(table.rows, points, strict=True)
    )
    return Table(title, (*table.columns, "base_start", "base_end"), rows)


def orphan_table(rows: Sequence[OrphanScan], title: str = "orphan scans") -> Table:
    columns = ("scene", "scans", "unique_scanners", "follows", "first_seen", "last_seen")
    cells: tuple[tuple[Cell, ...], ...] = tuple(
        (row.scene, row.scans, row.unique_scanners, row.follows, row.first_seen, row.last_seen)
        for row in rows
    )
    return Table(title, columns, cells)


def neutralise_csv_text(text: str) -> str:
    """``text`` made safe to open in a spreadsheet (see the module docstring)."""
    safe = _SMUGGLED_FORMULA.sub(r"\1'", text)
    return "'" + safe if _FORMULA_START.match(safe) else safe


def _csv_cell(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, str):
        return neutralise_csv_text(value)
    return str(value)


def _headers(table: Table, headers: Mapping[str, str] | None) -> list[str]:
    """The header row: each column's name, or its label in the reader's language."""
    return [(headers or {}).get(name, name) for name in table.columns]


def to_csv(table: Table, *, bom: bool = True, headers: Mapping[str, str] | None = None) -> bytes:
    """The table as CSV bytes (header row first, ``headers`` relabelling columns); with a
    byte-order mark by default, so a spreadsheet reads the Chinese right."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(_headers(table, headers))
    for row in table.rows:
        writer.writerow([_csv_cell(value) for value in row])
    return buffer.getvalue().encode("utf-8-sig" if bom else "utf-8")


def _zone_name(table: Table) -> str | None:
    for row in table.rows:
        for value in row:
            if isinstance(value, datetime) and value.tzinfo is not None:
                return str(value.tzinfo)
    return None


@dataclass(frozen=True, slots=True)
class SheetExtras:
    """What makes a sheet one a marketer opens in Excel: column labels in their language,
    lines saying what the sheet holds (window, time zone) above the table, and a totals
    row (the query's own metrics: exact unique scanners, not a sum of rows)."""

    headers: Mapping[str, str] | None = None
    about: tuple[str, ...] = ()
    totals: Metrics | None = None
    totals_label: str = "total"


def _utc_offset(value: datetime) -> str:
    """``+08:00``, ``-04:00``: the offset an aware datetime is at (spreadsheets keep none)."""
    text = value.isoformat()
    return text[-6:] if value.utcoffset() is not None else ""


def _safe_text(value: str) -> str:
    return ILLEGAL_CHARACTERS_RE.sub("", value)


def to_xlsx(table: Table, extras: SheetExtras | None = None) -> bytes:
    """The table as an XLSX workbook (one sheet named after the title): the header row
    frozen and filterable, times in the zone the lines above the table name."""
    extras = extras or SheetExtras()
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    title = _safe_text(table.title)
    for char in "[]:*?/\\'":
        title = title.replace(char, " ")
    sheet.title = title.strip()[:31] or "table"
    zone_name = _zone_name(table)
    if zone_name:
        workbook.properties.description = f"times are local to {zone_name}"
    bold = Font(bold=True)
    for line_number, line in enumerate(extras.about, start=1):
        sheet.cell(row=line_number, column=1, value=_safe_text(line)).data_type = "s"
    header_row = len(extras.about) + (2 if extras.about else 1)
    for col, name in enumerate(_headers(table, extras.headers), start=1):
        sheet.cell(row=header_row, column=col, value=_safe_text(name)).font = bold
    last_row = header_row
    for row_number, row in enumerate(table.rows, start=header_row + 1):
        last_row = row_number
        for col, value in enumerate(row, start=1):
            cell = sheet.cell(row=row_number, column=col)
            if isinstance(value, datetime):
                cell.value = value.replace(tzinfo=None)
                cell.number_format = f'yyyy-mm-dd hh:mm:ss" {_utc_offset(value)}"'
            elif isinstance(value, str):
                cell.value = _safe_text(value)
                cell.data_type = "s"  # text stays text, even "=…"
            else:
                cell.value = value
    # The header stays in view while scrolling, and each column can be filtered.
    sheet.freeze_panes = f"A{header_row + 1}"
    last_column = get_column_letter(len(table.columns))
    sheet.auto_filter.ref = f"A{header_row}:{last_column}{last_row}"
    if extras.totals is not None:
        totals_row = last_row + 1
        sheet.cell(row=totals_row, column=1, value=_safe_text(extras.totals_label)).font = bold
        for col, name in enumerate(table.columns, start=1):
            if name in METRIC_NAMES:
                cell = sheet.cell(row=totals_row, column=col, value=extras.totals.value(name))
                cell.font = bold
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


def build_table(stats: StatsService, query: StatsQuery, table: StatsTable | str) -> Table:
    """The stats table ``table`` answering ``query`` (the same for API, CLI, dashboard)."""
    try:
        chosen = StatsTable(table)
    except ValueError:
        choices = ", ".join(t.value for t in StatsTable)
        raise InvalidInputError(
            f"unknown table {table!r} (choose from {choices})", field="table"
        ) from None
    compares = query.compare is not None
    if chosen is StatsTable.SUMMARY:
        if not compares:
            return summary_table(stats.summary_of(query))
        summary = stats.compared_summary_of(query)
        return _with_changes(summary_table(summary.value), [summary.change])
    if chosen is StatsTable.CHANNELS:
        if not compares:
            return channel_table(stats.channels_of(query))
        channel_rows = stats.compared_channels_of(query)
        plain = channel_table([row.value for row in channel_rows])
        return _with_changes(plain, [row.change for row in channel_rows])
    if chosen is StatsTable.GROUPS:
        if not compares:
            return group_table(stats.groups_of(query))
        group_rows = stats.compared_groups_of(query)
        plain = group_table([row.value for row in group_rows])
        return _with_changes(plain, [row.change for row in group_rows])
    if chosen is StatsTable.ORPHANS:
        return orphan_table(stats.orphans_of(query))
    title = f"{query.granularity.value} series"
    if query.split is not None:
        return _split_series_table(stats, query, title)
    if not compares:
        return series_table(stats.series_of(query), title=title)
    return compared_series_table(stats.compared_series_of(query), title)


def _split_series_table(stats: StatsService, query: StatsQuery, title: str) -> Table:
    """One row per line (channel or group) and bucket, the line's keys first."""
    columns: tuple[str, ...] = ()
    rows: list[tuple[Cell, ...]] = []
    for line in stats.split_series_of(query):
        part = (
            compared_series_table(line.points, title)
            if query.compare is not None
            else series_table([p.value for p in line.points], title)
        )
        columns = part.columns
        key: tuple[Cell, ...] = (
            line.channel.id if line.channel else None,
            line.channel.name if line.channel else None,
            line.group,
        )
        rows.extend((*key, *row) for row in part.rows)
    if not columns:
        columns = series_table([], title).columns
        if query.compare is not None:
            columns = (*columns, *COMPARE_COLUMNS, "base_start", "base_end")
    return Table(title, ("channel_id", "channel", "group", *columns), tuple(rows))


@dataclass(frozen=True, slots=True)
class ExportFile:
    """An encoded table, ready to send or save."""

    content: bytes
    media_type: str
    filename: str


def export_file(
    stats: StatsService,
    query: StatsQuery,
    table: StatsTable | str,
    file_format: str,
    *,
    headers: Mapping[str, str] | None = None,
    about: Sequence[str] | None = None,
    totals_label: str = "total",
) -> ExportFile:
    """``table`` of ``query`` as a CSV or XLSX file named after what it holds. The XLSX
    says what it holds above the table (``about``; by default the window and time zone)
    and ends with a totals row of the query's metrics (channel, group and series tables);
    ``headers`` relabel the columns (the reader's language)."""
    if file_format not in FORMATS:
        raise InvalidInputError(
            f"unknown format {file_format!r} (choose from csv, xlsx)", field="format"
        )
    data = build_table(stats, query, table)
    if file_format == "xlsx":
        zone = query.timezone or query.account.timezone
        summed = StatsTable(table) in (StatsTable.CHANNELS, StatsTable.GROUPS, StatsTable.SERIES)
        extras = SheetExtras(
            headers=headers,
            about=tuple(
                about
                if about is not None
                else (f"{query.account.appid}: {query.date_from} – {query.date_to} ({zone})",)
            ),
            totals=stats.summary_of(query) if summed else None,
            totals_label=totals_label,
        )
        content = to_xlsx(data, extras)
    else:
        content = to_csv(data, headers=headers)
    only = (
        f"-channel{query.channel_ids[0]}"
        if query.channel_ids is not None and len(query.channel_ids) == 1
        else ""
    )
    stem = f"wxqr-{StatsTable(table).value}{only}-{query.date_from}-{query.date_to}"
    return ExportFile(content, FORMATS[file_format], f"{stem}.{file_format}")
