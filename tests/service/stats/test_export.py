"""Exports round-trip: CSV parses back to the same table, XLSX reads back with openpyxl."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from zoneinfo import ZoneInfo

from openpyxl import load_workbook

from wxqr.service.stats import (
    METRIC_NAMES,
    ChannelMetrics,
    ChannelRef,
    GroupMetrics,
    Metrics,
    SeriesPoint,
)
from wxqr.service.stats.export import (
    CONVERSION_COLUMNS,
    channel_table,
    group_table,
    series_table,
    summary_table,
    to_csv,
    to_xlsx,
)

TZ = ZoneInfo("Asia/Shanghai")
M1 = Metrics.of(
    scans=7, unique_scanners=5, new_followers=3, returning_followers=1, unfollows=6, follow_scans=2
)
M2 = Metrics.of(scans=2, unique_scanners=2, new_followers=1, returning_followers=0, unfollows=0)
CHANNELS = [
    ChannelMetrics(ChannelRef(1, "海报 A", "门店", "active"), M1),
    ChannelMetrics(ChannelRef(2, '=HYPERLINK("http://x")', None, "archived"), M2),
]
POINTS = [
    SeriesPoint(datetime(2024, 5, 1, tzinfo=TZ), datetime(2024, 5, 2, tzinfo=TZ), M1),
    SeriesPoint(datetime(2024, 5, 2, tzinfo=TZ), datetime(2024, 5, 3, tzinfo=TZ), M2),
]


def test_csv_of_a_channel_table_round_trips() -> None:
    data = to_csv(channel_table(CHANNELS))
    assert data.startswith(b"\xef\xbb\xbf")  # BOM: spreadsheets read the Chinese right
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == [
        "channel_id",
        "channel",
        "group",
        "status",
        *METRIC_NAMES,
        *CONVERSION_COLUMNS,
    ]
    row = ["1", "海报 A", "门店", "active", "7", "5", "3", "1", "6", "-2", "2", "5", "0.6"]
    assert rows[1] == row
    # A name a spreadsheet would run as a formula is neutralised with a leading quote.
    assert rows[2][1] == '\'=HYPERLINK("http://x")'
    assert rows[2][2] == ""
    assert to_csv(summary_table(M1), bom=False).decode() == (
        ",".join((*METRIC_NAMES, *CONVERSION_COLUMNS)) + "\r\n7,5,3,1,6,-2,2,5,0.6\r\n"
    )


def test_csv_of_a_series_keeps_the_offsets() -> None:
    rows = list(csv.DictReader(io.StringIO(to_csv(series_table(POINTS)).decode("utf-8-sig"))))
    assert [r["start"] for r in rows] == ["2024-05-01T00:00:00+08:00", "2024-05-02T00:00:00+08:00"]
    assert [int(r["net_followers"]) for r in rows] == [-2, 1]


def test_xlsx_of_a_channel_table_reads_back() -> None:
    book = load_workbook(io.BytesIO(to_xlsx(channel_table(CHANNELS))))
    sheet = book.active
    assert sheet is not None
    assert sheet.title == "channels"
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == (
        "channel_id",
        "channel",
        "group",
        "status",
        *METRIC_NAMES,
        *CONVERSION_COLUMNS,
    )
    assert rows[1] == (1, "海报 A", "门店", "active", 7, 5, 3, 1, 6, -2, 2, 5, 0.6)
    assert rows[2][1] == '=HYPERLINK("http://x")'  # stored as text, not a formula
    assert sheet.cell(row=3, column=2).data_type == "s"


def test_xlsx_of_a_series_and_groups() -> None:
    book = load_workbook(io.BytesIO(to_xlsx(series_table(POINTS, title="day/series"))))
    sheet = book.active
    assert sheet is not None
    assert sheet.title == "day series"
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][:2] == (datetime(2024, 5, 1), datetime(2024, 5, 2))  # local time
    assert rows[2][2:] == (2, 2, 1, 0, 0, 1, 0, 2, 0.5)
    assert book.properties.description == "times are local to Asia/Shanghai"
    groups = [GroupMetrics("门店", 1, M1), GroupMetrics(None, 1, M2)]
    group_sheet = load_workbook(io.BytesIO(to_xlsx(group_table(groups)))).active
    assert group_sheet is not None
    rows = list(group_sheet.iter_rows(values_only=True))
    assert rows[1:] == [
        ("门店", 1, 7, 5, 3, 1, 6, -2, 2, 5, 0.6),
        (None, 1, 2, 2, 1, 0, 0, 1, 0, 2, 0.5),
    ]


# --- CSV injection (issue 14, item 12) ----------------------------------------------------

DANGEROUS_STARTS = ["=1+1", "+1", "-1+2", "@SUM(A1)", "\tx", "\rx", "＝1+1", "＋1", "－1", "＠A1"]


def _csv_cells(value: str) -> list[str]:
    group = [GroupMetrics(value, 1, M1)]
    rows = list(csv.reader(io.StringIO(to_csv(group_table(group)).decode("utf-8-sig"))))
    return rows[1]


def test_every_formula_start_is_neutralised_with_a_quote() -> None:
    for value in DANGEROUS_STARTS:
        assert _csv_cells(value)[0] == "'" + value, value
    assert _csv_cells("  =1+1")[0] == "'  =1+1"  # spreadsheets skip leading blanks
    assert _csv_cells("\t=1")[0] == "'\t'=1"  # a tab is a separator too: both quoted
    assert _csv_cells("海报 A")[0] == "海报 A"
    assert _csv_cells("a-b@c")[0] == "a-b@c"  # a formula character inside a word is text


def test_a_formula_smuggled_after_a_field_separator_is_neutralised() -> None:
    # A spreadsheet reading the file with ";" (or tab, or "|") as its separator would
    # start a cell at "=1+1": a quote goes in front of every such formula character.
    for value, safe in [
        ("x;=1+1", "x;'=1+1"),
        ("x,=1+1", "x,'=1+1"),
        ("x\t@A1", "x\t'@A1"),
        ("x| -1", "x| '-1"),
        ('x"=1', "x\"'=1"),
        ("x\n=1", "x\n'=1"),
        ("x;＝1", "x;'＝1"),
        ("=a;=b", "'=a;'=b"),
    ]:
        assert _csv_cells(value)[0] == safe, value
    raw = to_csv(group_table([GroupMetrics("x;=1+1", 1, M1)]), bom=False).decode()
    for separator in (",", ";", "\t", "|"):
        for line in raw.splitlines():
            for cell in line.split(separator):
                assert not cell.strip(' "').startswith(("=", "+", "@")), (separator, cell)
