"""``attribution`` on ``/api/v1/stats``: the issue's example (a late follow moves the
first touch, not the last) on every metric route, echoed in the head; bad values 422."""

from __future__ import annotations

from typing import Any

import pytest

from tests.service.stats._log import LogWriter
from tests.support.stack import Stack

APPID = "wxstatsattrib0001"
DAY = {"account": APPID, "from": "2024-05-02", "to": "2024-05-02"}


@pytest.fixture
def log(stack: Stack) -> LogWriter:
    return LogWriter(stack.ws.engine, appid=APPID)


@pytest.fixture
def ids(stack: Stack, log: LogWriter) -> dict[str, int]:
    """Follow via C1 at 10:05, unfollow at 10:09, then a late follow via C2 at 10:00."""
    found = {"C1": log.channel("C1", "one"), "C2": log.channel("C2", "two")}
    log.event("subscribe_scan", "u1", "2024-05-02 10:05", "C1")
    log.event("unsubscribe", "u1", "2024-05-02 10:09")
    with stack.client() as client:  # folded before the late follow arrives
        assert client.get("/api/v1/stats/channels", params=DAY).status_code == 200
    log.event("subscribe_scan", "u1", "2024-05-02 10:00", "C2")
    return found


def _get(stack: Stack, path: str, params: dict[str, Any]) -> Any:
    with stack.client() as client:
        response = client.get(f"/api/v1/stats/{path}", params=params)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize(
    ("model", "credited"), [(None, "C2"), ("first_touch", "C2"), ("last_touch", "C1")]
)
def test_every_route_credits_the_model_s_channel(
    stack: Stack, ids: dict[str, int], model: str | None, credited: str
) -> None:
    params = DAY if model is None else {**DAY, "attribution": model}
    other = "C1" if credited == "C2" else "C2"
    channels = _get(stack, "channels", params)
    assert channels["attribution"] == (model or "first_touch")
    unfollows = {i["channel_id"]: i["metrics"]["unfollows"] for i in channels["items"]}
    assert unfollows == {ids[credited]: 1, ids[other]: 0}
    scoped = _get(stack, "summary", {**params, "channel": f"id:{ids[credited]}"})
    assert scoped["metrics"]["unfollows"] == 1
    assert (
        _get(stack, "summary", {**params, "channel": f"id:{ids[other]}"})["metrics"]["unfollows"]
        == 0
    )
    assert _get(stack, "summary", params)["metrics"]["unfollows"] == 1  # the account's
    groups = {g["group"]: g["metrics"]["unfollows"] for g in _get(stack, "groups", params)["items"]}
    assert groups == {
        "one" if credited == "C1" else "two": 1,
        "two" if credited == "C1" else "one": 0,
    }
    series = _get(stack, "series", {**params, "channel": f"id:{ids[credited]}"})
    assert [p["unfollows"] for p in series["points"]] == [1]
    top = _get(stack, "top", {**params, "by": "unfollows"})
    assert [i["channel_id"] for i in top["items"]] == [ids[credited]]


def test_an_unknown_model_is_a_422_problem(stack: Stack, ids: dict[str, int]) -> None:
    with stack.client() as client:
        response = client.get("/api/v1/stats/summary", params={**DAY, "attribution": "linear"})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")


def test_answers_hold_the_conversion(stack: Stack, ids: dict[str, int], log: LogWriter) -> None:
    """u1 follows via C1, then (late, earlier CreateTime) via C2: C2's is the new follow,
    C1's returning; u9 scans C1 twice as a follower: C1 has 3 scans by 2 scanners, 1
    follow scan, 2 follower scans and no new follower."""
    log.event("scan", "u9", "2024-05-02 11:00", "C1")
    log.event("scan", "u9", "2024-05-02 12:00", "C1")
    expected = {"follow_scans": 1, "follower_scans": 2, "conversion_rate": 0.0}
    items = {i["channel_id"]: i for i in _get(stack, "channels", DAY)["items"]}
    # u1's first follow is the late one via C2: C2 has the new follower, C1 a returning one
    assert items[ids["C1"]]["conversion"] == expected
    assert items[ids["C2"]]["conversion"] == {
        "follow_scans": 1,
        "follower_scans": 0,
        "conversion_rate": 1.0,
    }
    summary = _get(stack, "summary", {**DAY, "channel": f"id:{ids['C1']}"})
    assert summary["conversion"] == expected
    account = _get(stack, "summary", DAY)["conversion"]
    assert account == {"follow_scans": 2, "follower_scans": 2, "conversion_rate": 0.5}
    point = _get(stack, "series", {**DAY, "channel": f"id:{ids['C1']}"})["points"][0]
    assert point["conversion"] == expected
    group = _get(stack, "groups", {**DAY, "group": "one"})["items"][0]
    assert group["conversion"] == expected
    top = _get(stack, "top", {**DAY, "by": "scans"})["items"][0]
    assert (top["channel_id"], top["conversion"]) == (ids["C1"], expected)


def test_no_scanner_is_a_null_conversion_rate(stack: Stack, ids: dict[str, int]) -> None:
    quiet = {**DAY, "from": "2024-06-01", "to": "2024-06-01"}
    conversion = _get(stack, "summary", quiet)["conversion"]
    assert conversion == {"follow_scans": 0, "follower_scans": 0, "conversion_rate": None}
