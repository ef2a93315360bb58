"""user/info, tags and datacube/getusersummary, computed from what happened."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from wxqr.emulator.clock import CHINA_TZ, china_midnight
from wxqr.emulator.testing import RunningEmulator

from .conftest import get_token
from .test_qrcode import create, perm, temp


def info(http: httpx.Client, token: str, openid: str) -> dict[str, Any]:
    params = {"access_token": token, "openid": openid, "lang": "zh_CN"}
    result: dict[str, Any] = http.get("/cgi-bin/user/info", params=params).json()
    return result


def post(http: httpx.Client, path: str, token: str, body: Any) -> dict[str, Any]:
    result: dict[str, Any] = http.post(path, params={"access_token": token}, json=body).json()
    return result


def test_user_info_after_scans(emu: RunningEmulator, http: httpx.Client, token: str) -> None:
    by_id = create(http, token, perm(321))
    by_str = create(http, token, temp("spring-sale"))
    emu.scan("o-id", url=by_id["url"])
    emu.scan("o-str", ticket=by_str["ticket"])
    emu.follow("o-search")
    a, b, c = info(http, token, "o-id"), info(http, token, "o-str"), info(http, token, "o-search")
    assert (a["subscribe"], a["subscribe_scene"], a["qr_scene"], a["qr_scene_str"]) == (
        1,
        "ADD_SCENE_QR_CODE",
        321,
        "",
    )
    assert (b["qr_scene"], b["qr_scene_str"]) == (0, "spring-sale")
    assert (c["subscribe_scene"], c["qr_scene"], c["qr_scene_str"]) == ("ADD_SCENE_SEARCH", 0, "")
    assert abs(a["subscribe_time"] - emu.now()) < 5
    # a second scan by a follower does not change the acquiring scene
    emu.scan("o-id", ticket=by_str["ticket"])
    assert info(http, token, "o-id")["qr_scene"] == 321


def test_user_info_subscribe_time_is_the_last_one(
    emu: RunningEmulator, http: httpx.Client, token: str
) -> None:
    emu.follow("o1")
    emu.unsubscribe("o1")
    gone = info(http, token, "o1")
    assert gone["subscribe"] == 0
    assert "subscribe_time" not in gone
    later = emu.advance(3600)
    emu.follow("o1")
    assert abs(info(http, token, "o1")["subscribe_time"] - later) < 5


def test_user_info_unknown_openid(http: httpx.Client, token: str) -> None:
    assert info(http, token, "never-seen")["errcode"] == 40003
    assert http.get("/cgi-bin/user/info", params={"access_token": token}).json()["errcode"] == 40003


def test_tags(emu: RunningEmulator, http: httpx.Client, token: str) -> None:
    created = post(http, "/cgi-bin/tags/create", token, {"tag": {"name": "广东"}})
    tag_id = created["tag"]["id"]
    assert created["tag"]["name"] == "广东"
    assert tag_id >= 100
    assert post(http, "/cgi-bin/tags/create", token, {"tag": {"name": "广东"}})["errcode"] == 45157
    too_long = {"tag": {"name": "x" * 31}}
    assert post(http, "/cgi-bin/tags/create", token, too_long)["errcode"] == 45158
    emu.follow("o1")
    emu.follow("o2")
    tagging = {"openid_list": ["o1", "o2"], "tagid": tag_id}
    result = post(http, "/cgi-bin/tags/members/batchtagging", token, tagging)
    assert result == {"errcode": 0, "errmsg": "ok"}
    tags = http.get("/cgi-bin/tags/get", params={"access_token": token}).json()["tags"]
    assert {"id": tag_id, "name": "广东", "count": 2} in tags
    assert {"id": 2, "name": "星标组", "count": 0} in tags
    assert info(http, token, "o1")["tagid_list"] == [tag_id]
    untag = {"openid_list": ["o2"], "tagid": tag_id}
    assert post(http, "/cgi-bin/tags/members/batchuntagging", token, untag)["errcode"] == 0
    assert info(http, token, "o2")["tagid_list"] == []


@pytest.mark.parametrize(
    ("body", "errcode"),
    [
        ({"openid_list": ["o1"], "tagid": 999}, 45159),
        ({"openid_list": ["nobody"], "tagid": 2}, 40003),
        ({"openid_list": [], "tagid": 2}, 40003),
        ({"openid_list": [f"o{i}" for i in range(51)], "tagid": 2}, 40032),
    ],
)
def test_batchtagging_errors(
    emu: RunningEmulator, http: httpx.Client, token: str, body: dict[str, Any], errcode: int
) -> None:
    emu.follow("o1")
    assert post(http, "/cgi-bin/tags/members/batchtagging", token, body)["errcode"] == errcode


def test_tag_limits(emu: RunningEmulator, http: httpx.Client, token: str) -> None:
    ids = [
        post(http, "/cgi-bin/tags/create", token, {"tag": {"name": f"t{i}"}})["tag"]["id"]
        for i in range(100)
    ]
    assert post(http, "/cgi-bin/tags/create", token, {"tag": {"name": "one more"}})["errcode"] == (
        45056
    )
    emu.follow("o1")
    for tag_id in ids[:20]:
        body = {"openid_list": ["o1"], "tagid": tag_id}
        assert post(http, "/cgi-bin/tags/members/batchtagging", token, body)["errcode"] == 0
    body = {"openid_list": ["o1"], "tagid": ids[20]}
    assert post(http, "/cgi-bin/tags/members/batchtagging", token, body)["errcode"] == 45059


def _day_start(emu: RunningEmulator, day: date) -> None:
    emu.set_clock(china_midnight(day) + 3600)


def test_user_summary_counts_per_day_and_source(
    emu: RunningEmulator, http: httpx.Client, token: str
) -> None:
    day1 = date(2026, 3, 2)
    _day_start(emu, day1)
    token = get_token(http)
    code = create(http, token, perm(1))
    emu.scan("a", url=code["url"])
    emu.scan("b", url=code["url"])
    emu.follow("c")
    emu.advance(86_400)  # day 2
    emu.unsubscribe("a")
    emu.scan("a", url=code["url"])  # comes back
    emu.advance(2 * 86_400)  # day 4: data of days 1..3 is ready
    token = get_token(http)
    body = {"begin_date": "2026-03-02", "end_date": "2026-03-03"}
    rows = post(http, "/datacube/getusersummary", token, body)["list"]
    assert rows == [
        {"ref_date": "2026-03-02", "user_source": 1, "new_user": 1, "cancel_user": 0},
        {"ref_date": "2026-03-02", "user_source": 30, "new_user": 2, "cancel_user": 0},
        {"ref_date": "2026-03-03", "user_source": 30, "new_user": 1, "cancel_user": 1},
    ]
    empty = post(
        http,
        "/datacube/getusersummary",
        token,
        {"begin_date": "2026-03-04", "end_date": "2026-03-04"},
    )
    assert empty["list"] == [
        {"ref_date": "2026-03-04", "user_source": 0, "new_user": 0, "cancel_user": 0}
    ]


@pytest.mark.parametrize(
    ("begin", "end", "errcode"),
    [
        ("2026-03-01", "2026-03-08", 61501),  # 8 days
        ("2026-03-05", "2026-03-01", 61501),  # reversed
        ("2026-03-01", "2026-03-10", 61501),  # end not before today
        ("03/01/2026", "2026-03-02", 61500),
    ],
)
def test_user_summary_errors(
    emu: RunningEmulator, http: httpx.Client, begin: str, end: str, errcode: int
) -> None:
    _day_start(emu, date(2026, 3, 10))
    token = get_token(http)
    body = {"begin_date": begin, "end_date": end}
    assert post(http, "/datacube/getusersummary", token, body)["errcode"] == errcode


def test_china_midnight_is_utc_plus_8() -> None:
    day = date(2026, 1, 1)
    assert china_midnight(day) == 1767196800
    assert CHINA_TZ.utcoffset(None) == timedelta(hours=8)
