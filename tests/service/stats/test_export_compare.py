"""Exports of comparing and split queries, and XLSX times that keep their UTC offset."""

from __future__ import annotations

import csv
import io
from datetime import date

from openpyxl import load_workbook
from sqlalchemy import Engine

from wxqr.service.stats import METRIC_NAMES, StatsService
from wxqr.service.stats.export import (
    COMPARE_COLUMNS,
    CONVERSION_COLUMNS,
    build_table,
    export_file,
)

from ._log import LogWriter


def test_xlsx_hours_of_a_dst_day_keep_their_utc_offset(db: Engine) -> None:
    log = LogWriter(db, tz="Europe/London")
    log.channel("A")
    log.event("scan", "u1", "2024-10-27 00:30", "A")
    stats = StatsService(db)
    query = stats.query(
        log.account_id, date_from=date(2024, 10, 27), date_to=date(2024, 10, 27), granularity="hour"
    )
    file = export_file(stats, query, "series", "xlsx")
    sheet = load_workbook(io.BytesIO(file.content)).active
    assert sheet is not None
    rows = [row for row in sheet.iter_rows() if row[0].is_date]
    assert len(rows) == 25  # the fall-back day
    shown = [
        (
            f"{row[0].value:%H:%M}{row[0].number_format.split(chr(34))[1]}",
            f"{row[1].value:%H:%M}{row[1].number_format.split(chr(34))[1]}",
        )
        for row in rows
    ]
    # 01:00 BST → 01:00 GMT, then 01:00 GMT → 02:00 GMT: told apart by the offset.
    assert shown[1] == ("01:00 +01:00", "01:00 +00:00")
    assert shown[2] == ("01:00 +00:00", "02:00 +00:00")
    assert len(set(shown)) == 25


def test_exports_of_a_comparing_query_hold_base_change_and_percent(db: Engine) -> None:
    log = LogWriter(db)
    a = log.channel("A", "g")
    log.event("scan", "u1", "2024-05-01 10:00", "A")
    log.event("scan", "u1", "2024-05-08 10:00", "A")
    log.event("scan", "u2", "2024-05-09 10:00", "A")
    stats = StatsService(db)
    query = stats.query(
        log.account_id,
        date_from=date(2024, 5, 8),
        date_to=date(2024, 5, 14),
        compare="previous_period",
    )
    summary = build_table(stats, query, "summary")
    assert summary.columns == (*METRIC_NAMES, *CONVERSION_COLUMNS, *COMPARE_COLUMNS)
    row = dict(zip(summary.columns, summary.rows[0], strict=True))
    assert (row["scans"], row["base_scans"], row["change_scans"]) == (2, 1, 1)
    assert row["percent_scans"] == 100.0
    assert row["percent_unfollows"] is None
    text = export_file(stats, query, "channels", "csv").content.decode("utf-8-sig")
    channels = list(csv.DictReader(io.StringIO(text)))
    assert channels[0]["channel_id"] == str(a)
    assert (channels[0]["base_unique_scanners"], channels[0]["percent_unique_scanners"]) == (
        "1",
        "100.0",
    )
    assert channels[0]["percent_new_followers"] == ""  # null: no base
    series = build_table(stats, query, "series")
    assert series.columns[-2:] == ("base_start", "base_end")
    assert len(series.rows) == 7
    groups = build_table(stats, query, "groups")
    assert groups.rows[0][0] == "g"
    assert groups.columns[-1] == "percent_net_followers"


def test_a_split_series_export_is_one_row_per_line_and_bucket(db: Engine) -> None:
    log = LogWriter(db)
    a = log.channel("A")
    b = log.channel("B")
    log.event("scan", "u1", "2024-05-01 10:00", "A")
    log.event("scan", "u1", "2024-05-02 10:00", "B")
    stats = StatsService(db)
    query = stats.query(
        log.account_id,
        date_from=date(2024, 5, 1),
        date_to=date(2024, 5, 2),
        channels=[a, b],
        split="channel",
    )
    table = build_table(stats, query, "series")
    assert table.columns[:5] == ("channel_id", "channel", "group", "start", "end")
    assert [(r[0], r[5]) for r in table.rows] == [(a, 1), (a, 0), (b, 0), (b, 1)]
