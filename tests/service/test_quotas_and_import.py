"""Issue 19 §2: WeChat's qrcode/create quota (wxqr's count matches the emulator's), jobs
refused before any call when they cannot finish, 45009/45029 stopping cleanly, and a
bulk import that resumes where it was interrupted."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from tests.support.lifecycle_stack import lifecycle_stack
from wxqr.protocol import QRKind
from wxqr.service.bulk import BulkImportError, import_channels, parse_channel_csv
from wxqr.service.bulk_issue import BulkIssueError, issue_codes
from wxqr.service.channels import NewChannel
from wxqr.service.codes import CodeSpec
from wxqr.service.errors import InvalidInputError
from wxqr.service.quotas import PermanentCapError, QuotaExhaustedError
from wxqr.service.scan_sessions import NewScanSession

CREATE = "/cgi-bin/qrcode/create"
DAY = 86400

CSV = """name,group,kind,reply,payload,follower_tags
Imp 1,imp,permanent,Welcome 1,"{""n"": 1}",vip;imp
Imp 2,imp,temporary,,7,
Imp 3,imp,,"{""type"": ""text"", ""content"": ""hi""}",plain text,
Imp 4,imp,,,,
Imp 5,imp,,,,
"""


def test_wxqr_counts_the_calls_wechat_counts(engine: Engine, database_url: str) -> None:
    with lifecycle_stack(engine, database_url) as stack:
        ws = stack.ws
        for name, spec in [
            ("A", CodeSpec()),
            ("B", CodeSpec(kind=QRKind.TEMPORARY)),
            ("C", CodeSpec()),
        ]:
            ws.channel_codes.create(stack.account.id, NewChannel(name=name), spec)
        ws.scan_sessions.create(stack.account.id, NewScanSession("login"))  # a code too
        usage = ws.quotas.usage(stack.account)
        assert usage.source == "wechat"
        assert usage.wechat_used == usage.wxqr_used == usage.used == 4
        assert usage.daily_limit == 100_000
        assert usage.remaining == 99_996
        assert (usage.permanent_used, usage.permanent_limit) == (2, 100_000)
        stack.advance(DAY)  # a new China day: both counts start again
        fresh = ws.quotas.usage(stack.account)
        assert (fresh.wechat_used, fresh.wxqr_used) == (0, 0)


def test_an_import_that_cannot_finish_is_refused_before_any_call(
    engine: Engine, database_url: str
) -> None:
    with lifecycle_stack(engine, database_url, daily_quota=3) as stack:
        ws = stack.ws
        calls = stack.emulator.calls(CREATE)
        with pytest.raises(QuotaExhaustedError, match=r"needs 5 .* it can do 3 today"):
            import_channels(
                ws.channels, ws.codes, stack.account.id, parse_channel_csv(CSV), quotas=ws.quotas
            )
        assert stack.emulator.calls(CREATE) == calls  # WeChat was never asked for a code
        assert ws.channels.count(stack.account.id) == 0


def test_an_interrupted_import_resumes(engine: Engine, database_url: str) -> None:
    rows = parse_channel_csv(CSV)
    with lifecycle_stack(engine, database_url) as stack:
        ws = stack.ws
        account_id = stack.account.id

        def stop_after_two(done: int, _total: int) -> None:
            if done == 2:
                raise KeyboardInterrupt  # the operator's Ctrl-C, the process killed

        with pytest.raises(KeyboardInterrupt):
            import_channels(
                ws.channels, ws.codes, account_id, rows, progress=stop_after_two, quotas=ws.quotas
            )
        assert ws.channels.count(account_id) == 2
        # A process killed between a row's channel and its code leaves the channel alone.
        ws.channels.create(account_id, rows[2].channel)

        summary = import_channels(ws.channels, ws.codes, account_id, rows, quotas=ws.quotas)
        assert [c.channel.name for c in summary.created] == ["Imp 3", "Imp 4", "Imp 5"]
        assert [(s.line, s.reason) for s in summary.skipped] == [
            (2, "already imported"),
            (3, "already imported"),
        ]
        assert summary.failed == []
        assert summary.text() == "created 3, skipped 2, failed 0"
        listed = {c.name: c for c in ws.channels.list_channels(account_id)}
        assert len(listed) == 5
        assert all(ws.codes.current_code(c.id) is not None for c in listed.values())
        first = listed["Imp 1"]
        assert first.payload == {"n": 1}
        assert first.follower_tags == ("vip", "imp")
        assert first.reply_json() == {"type": "text", "content": "Welcome 1"}
        assert listed["Imp 2"].payload == 7
        assert listed["Imp 3"].payload == "plain text"

        again = import_channels(ws.channels, ws.codes, account_id, rows, quotas=ws.quotas)
        assert (len(again.created), len(again.skipped)) == (0, 5)

        differs = parse_channel_csv("name,kind\nImp 4,temporary\nImp 6,\n")
        with pytest.raises(InvalidInputError, match="'Imp 4' already exists and differs"):
            import_channels(ws.channels, ws.codes, account_id, differs)
        forced = import_channels(ws.channels, ws.codes, account_id, differs, skip_existing=True)
        assert [c.channel.name for c in forced.created] == ["Imp 6"]
        assert "its group is 'imp'" in forced.skipped[0].reason


def test_quota_errors_stop_a_job_cleanly_and_the_next_day_it_continues(
    engine: Engine, database_url: str
) -> None:
    rows = parse_channel_csv(CSV)
    with lifecycle_stack(engine, database_url, daily_quota=3) as stack:
        ws = stack.ws
        account_id = stack.account.id
        with pytest.raises(BulkImportError) as stopped:  # no pre-check: WeChat says 45009
            import_channels(ws.channels, ws.codes, account_id, rows)
        assert isinstance(stopped.value.reason, QuotaExhaustedError)
        assert "created 3 of 5 rows" in stopped.value.detail
        assert "re-run the same CSV" in stopped.value.detail
        assert len(stopped.value.summary.created) == 3
        assert ws.channels.count(account_id) == 3  # the refused row left nothing behind

        stack.advance(DAY)
        summary = import_channels(ws.channels, ws.codes, account_id, rows, quotas=ws.quotas)
        assert summary.text() == "created 2, skipped 3, failed 0"


def test_the_permanent_cap_of_wechat_stops_a_job_cleanly(engine: Engine, database_url: str) -> None:
    with lifecycle_stack(engine, database_url, permanent_limit=2) as stack:
        ws = stack.ws
        with pytest.raises(BulkImportError) as stopped:
            import_channels(
                ws.channels, ws.codes, stack.account.id, parse_channel_csv("name\nA\nB\nC\n")
            )
        assert isinstance(stopped.value.reason, PermanentCapError)
        assert "temporary codes" in stopped.value.reason.detail
        assert ws.channels.count(stack.account.id) == 2


def test_a_bulk_reissue_checks_the_quota_and_continues(engine: Engine, database_url: str) -> None:
    with lifecycle_stack(engine, database_url, daily_quota=3) as stack:
        ws = stack.ws
        account_id = stack.account.id
        spec = CodeSpec(kind=QRKind.TEMPORARY, expire_seconds=DAY // 2)
        for n in range(3):
            ws.channel_codes.create(account_id, NewChannel(name=f"T{n}", group="g"), spec)
        ws.channels.create(account_id, NewChannel(name="Bare", group="g"))
        stack.advance(DAY)  # the codes expired; a new day with 3 calls
        channels = ws.channels.list_channels(account_id, group="g")
        calls = stack.emulator.calls(CREATE)
        with pytest.raises(QuotaExhaustedError, match=r"needs 4 .* it can do 3 today"):
            issue_codes(ws.codes, ws.quotas, account_id, channels, CodeSpec(), now=ws.clock())
        assert stack.emulator.calls(CREATE) == calls

        with pytest.raises(BulkIssueError) as stopped:  # no pre-check: WeChat's 45009
            issue_codes(ws.codes, None, account_id, channels, CodeSpec(), now=ws.clock())
        assert isinstance(stopped.value.reason, QuotaExhaustedError)
        assert len(stopped.value.summary.issued) == 3

        stack.advance(DAY)
        done = issue_codes(ws.codes, ws.quotas, account_id, channels, CodeSpec(), now=ws.clock())
        assert done.text() == "issued 1, skipped 3, failed 0"
        assert all(ws.codes.current_code(c.id) is not None for c in channels)
