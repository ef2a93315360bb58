"""Exports a marketer opens in Excel: headers in the reader's language, the window and time
zone above the table, a frozen, filterable header row, and a totals row."""

from __future__ import annotations

import csv
import io

import httpx
from openpyxl import load_workbook

from tests.support.stack import Stack, openids

PASSWORD = "correct horse battery"


def test_excel_and_csv_exports_in_chinese(stack: Stack) -> None:
    stack.ws.admin.set_password(PASSWORD)
    with stack.client() as api:
        for name in ("海报 A", "海报 B"):
            api.post("/api/v1/channels", json={"name": name, "code": {}}).raise_for_status()
    channel = stack.ws.channels.find(stack.account.id, "海报 A")
    code = stack.ws.codes.current_code(channel.id)
    assert code is not None
    assert code.ticket is not None
    users = openids(2)
    for user in (*users, users[0]):  # 3 scans by 2 people
        stack.emulator.scan(user, ticket=code.ticket)
    with httpx.Client(base_url=stack.base_url, timeout=30) as client:
        client.post("/dashboard/login", data={"password": PASSWORD})
        zh = {"Accept-Language": "zh-CN"}
        xlsx = client.get("/dashboard/export", params={"format": "xlsx"}, headers=zh)
        assert xlsx.status_code == 200
        sheet = load_workbook(io.BytesIO(xlsx.content)).active
        assert sheet is not None
        rows = [[c.value for c in row] for row in sheet.iter_rows()]
        assert rows[0][0] == f"wxqr 导出：{stack.account.name or stack.account.appid}"
        assert "时区 Asia/Shanghai" in str(rows[1][0])
        header = rows[3]
        assert header[:2] == ["渠道编号", "渠道"]
        assert "扫码次数" in header
        assert "扫码人数" in header
        assert sheet.freeze_panes == "A5"
        assert sheet.auto_filter.ref == f"A4:{sheet.cell(4, len(header)).column_letter}6"
        body = {r[1]: r for r in rows[4:6]}
        scans, uniques = header.index("扫码次数"), header.index("扫码人数")
        assert body["海报 A"][scans] == 3
        assert body["海报 A"][uniques] == 2
        total = rows[6]
        assert total[0] == "合计"
        assert total[scans] == 3
        assert total[uniques] == 2  # exact, not a sum of rows

        plain = client.get("/dashboard/export", params={"format": "csv"}, headers=zh)
        assert plain.content.startswith(b"\xef\xbb\xbf")
        reader = csv.reader(io.StringIO(plain.content.decode("utf-8-sig")))
        assert next(reader)[:2] == ["渠道编号", "渠道"]

        english = client.get("/dashboard/export", params={"format": "csv"})
        assert english.content.decode("utf-8-sig").startswith("Channel id,Channel,")


def test_an_export_compared_with_the_previous_period(stack: Stack) -> None:
    stack.ws.admin.set_password(PASSWORD)
    with httpx.Client(base_url=stack.base_url, timeout=30) as client:
        client.post("/dashboard/login", data={"password": PASSWORD})
        exported = client.get(
            "/dashboard/export",
            params={"table": "summary", "format": "csv", "compare": "previous_period"},
        )
        assert exported.status_code == 200
        rows = list(csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig"))))
        # Labelled in the reader's language, as every column of a dashboard export.
        assert {"Scans (base)", "Scans change", "Scans change %"} <= set(rows[0])
        assert rows[0]["Scans change %"] == ""  # nothing before: no ratio
        zh = client.get(
            "/dashboard/export",
            params={"table": "summary", "format": "csv", "compare": "previous_year"},
            headers={"Accept-Language": "zh-CN"},
        )
        header = zh.content.decode("utf-8-sig").splitlines()[0].split(",")
        assert "扫码次数（对比期）" in header
        assert "扫码次数 变化 %" in header
        refused = client.get("/dashboard/export", params={"align": "weekday"})
        assert refused.status_code == 422
