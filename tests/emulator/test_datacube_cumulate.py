"""datacube/getusercumulate: the followers at the end of each China day, from the
emulator's own follows and unfollows (delivered or not)."""

from __future__ import annotations

from datetime import date

import httpx

from wxqr.emulator.clock import china_midnight
from wxqr.emulator.testing import RunningEmulator

from .conftest import get_token
from .test_qrcode import create, perm


def _post(http: httpx.Client, token: str, begin: str, end: str) -> dict[str, object]:
    body = {"begin_date": begin, "end_date": end}
    result: dict[str, object] = http.post(
        "/datacube/getusercumulate", params={"access_token": token}, json=body
    ).json()
    return result


def test_cumulate_counts_followers_at_the_end_of_each_day(
    emu: RunningEmulator, http: httpx.Client
) -> None:
    emu.set_clock(china_midnight(date(2026, 3, 2)) + 3600)
    token = get_token(http)
    code = create(http, token, perm(1))
    emu.scan("a", url=code["url"])  # no push_url: recorded, not delivered, still counted
    emu.scan("b", url=code["url"])
    emu.follow("c")
    emu.advance(86_400)  # 03-03
    emu.unsubscribe("a")
    emu.advance(86_400)  # 03-04
    emu.unsubscribe("b")
    emu.scan("a", url=code["url"])  # comes back
    emu.advance(86_400)  # 03-05: days up to 03-04 are ready
    token = get_token(http)
    rows = _post(http, token, "2026-03-01", "2026-03-04")["list"]
    assert rows == [
        {"ref_date": "2026-03-01", "user_source": 0, "cumulate_user": 0},
        {"ref_date": "2026-03-02", "user_source": 0, "cumulate_user": 3},
        {"ref_date": "2026-03-03", "user_source": 0, "cumulate_user": 2},
        {"ref_date": "2026-03-04", "user_source": 0, "cumulate_user": 2},
    ]


def test_cumulate_keeps_the_data_cube_limits(emu: RunningEmulator, http: httpx.Client) -> None:
    emu.set_clock(china_midnight(date(2026, 3, 10)) + 3600)
    token = get_token(http)
    assert _post(http, token, "2026-03-01", "2026-03-08")["errcode"] == 61501  # 8 days
    assert _post(http, token, "2026-03-09", "2026-03-10")["errcode"] == 61501  # today
    assert _post(http, token, "1/3/2026", "2026-03-02")["errcode"] == 61500
