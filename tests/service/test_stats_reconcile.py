"""``reconcile_of`` (and ``GET /api/v1/stats/reconcile``) against the emulator's data cube,
which counts from its own simulated users: pushes the emulator made but wxqr never got show
up as differences with their likely cause; WeChat's answers are cached per day."""

from __future__ import annotations

import random
import time
import uuid
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from tests.support.stack import APPID, Stack, openids

CHINA = ZoneInfo("Asia/Shanghai")
SUMMARY = "/datacube/getusersummary"


def _story(stack: Stack, day: date) -> None:
    """On ``day``: two follows (one through a code) that reach wxqr, two that do not, and
    an unfollow that does."""
    emu = stack.emulator
    with stack.client() as client:
        created = client.post(
            "/api/v1/channels", json={"name": f"Poster {uuid.uuid4().hex[:8]}", "code": {}}
        )
    assert created.status_code == 201, created.text
    ticket = created.json()["code"]["ticket"]
    users = openids(4)
    ten_am = datetime(day.year, day.month, day.day, 10, tzinfo=CHINA).timestamp()
    try:
        emu.set_clock(ten_am)
        assert emu.scan(users[0], ticket=ticket).pushes[0].delivered
        assert emu.follow(users[1]).pushes[0].delivered
        emu.set_push_url(APPID, None)  # wxqr is unreachable for a while
        emu.scan(users[2], ticket=ticket)
        emu.follow(users[3])
        emu.set_push_url(APPID, f"{stack.base_url}/wechat/{APPID}")
        assert emu.unsubscribe(users[0]).pushes[0].delivered
    finally:
        emu.set_clock(time.time())


def test_missed_pushes_show_as_differences_with_their_cause(stack: Stack) -> None:
    day = date(2020, 1, 1) + timedelta(days=random.randrange(1500))
    _story(stack, day)
    query = stack.ws.stats.query(
        APPID, date_from=day - timedelta(days=1), date_to=day, timezone="Asia/Shanghai"
    )
    answer = stack.ws.insights.reconcile_of(query)
    assert answer.fetched_days == 2
    before, on = answer.days
    assert before.matches is True
    assert before.causes == ()
    assert on.wxqr == {"follows": 2, "unfollows": 1, "code_follows": 1}
    assert on.wechat == {"follows": 4, "unfollows": 1, "code_follows": 2}
    assert on.differences == {"follows": 2, "unfollows": 0, "code_follows": 1}
    assert on.matches is False
    assert on.causes == ("missed_pushes", "other_sources")
    assert on.cumulate is not None
    assert before.cumulate is not None
    assert on.cumulate - before.cumulate == 3  # four follows, one unfollow

    calls = stack.emulator.calls(SUMMARY)
    again = stack.ws.insights.reconcile_of(query)
    assert again.fetched_days == 0  # both days from the cache
    assert stack.emulator.calls(SUMMARY) == calls
    assert again.days == answer.days

    with stack.client() as client:
        response = client.get(
            "/api/v1/stats/reconcile",
            params={"from": day.isoformat(), "to": day.isoformat()},
        )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["timezone"] == "Asia/Shanghai"
    (row,) = body["days"]
    assert row["date"] == day.isoformat()
    assert row["differences"] == {"follows": 2, "unfollows": 0, "code_follows": 1}
    assert row["causes"] == ["missed_pushes", "other_sources"]


def test_today_has_no_wechat_side_and_wechat_failures_are_502(stack: Stack) -> None:
    today = datetime.now(CHINA).date()
    query = stack.ws.stats.query(APPID, date_from=today, date_to=today, timezone="Asia/Shanghai")
    (row,) = stack.ws.insights.reconcile_of(query).days
    assert row.wechat is None
    assert row.matches is None

    emu = stack.emulator
    day = date(2016, 1, 1) + timedelta(days=random.randrange(1000))
    emu.set_faults(busy_ratio=1.0, paths=["/datacube/"])
    try:
        with stack.client() as client:
            response = client.get(
                "/api/v1/stats/reconcile",
                params={"from": day.isoformat(), "to": day.isoformat()},
            )
    finally:
        emu.set_faults()
    assert response.status_code == 502, response.text
    assert response.headers["content-type"] == "application/problem+json"


def test_more_than_a_year_is_refused(stack: Stack) -> None:
    with stack.client() as client:
        created = client.post("/api/v1/channels", json={"name": f"P {uuid.uuid4().hex[:8]}"})
        assert created.status_code == 201, created.text
        response = client.get(
            "/api/v1/stats/reconcile", params={"from": "2024-01-01", "to": "2025-06-01"}
        )
    assert response.status_code == 422
    assert "at most" in response.json()["detail"]
