"""``WeChatClient.user_cumulate``: typed rows, 7-day calls (WeChat's limit)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from wxqr.emulator.testing import RunningEmulator
from wxqr.protocol import QRRequest
from wxqr.wechat import UserCumulateRow, WeChatClient

from .support import config_for

pytestmark = pytest.mark.anyio


async def test_user_cumulate_splits_ranges_and_counts_followers(emu: RunningEmulator) -> None:
    async with WeChatClient(config_for(emu)) as client:
        code = await client.create_qrcode(QRRequest.permanent(7))
        emu.scan("o-a", ticket=code.ticket)
        emu.follow("o-b")
        emu.unsubscribe("o-a")
        emu.follow("o-c")
        now = emu.advance(86_400)
        yesterday = (datetime.fromtimestamp(now, UTC) + timedelta(hours=8)).date() - timedelta(1)
        begin = yesterday - timedelta(days=9)
        before = emu.calls("/datacube/getusercumulate")
        rows = await client.user_cumulate(begin, yesterday)
        with pytest.raises(ValueError, match="before"):
            await client.user_cumulate(yesterday, begin)
    assert emu.calls("/datacube/getusercumulate") - before in (2, 3)  # 7 + 3 days (+ a retry)
    assert all(isinstance(r, UserCumulateRow) for r in rows)
    assert [r.ref_date for r in rows] == [begin + timedelta(days=i) for i in range(10)]
    assert rows[-1].cumulate_user - rows[-2].cumulate_user == 2  # 3 follows, 1 unfollow
