"""``/api/v1/stats`` over HTTP: the scope holds on every route (issue 17 §5), channel
references are unambiguous, and answers compare (``compare``, ``align``,
``compare_from``/``compare_to``) and split (``split``) as docs/api.md says."""

from __future__ import annotations

import csv
import io
from typing import Any

import httpx
import pytest

from tests.service.stats._log import LogWriter
from tests.support.stack import Stack

APPID = "wxstatsscope00001"
MAY = {"account": APPID, "from": "2024-05-08", "to": "2024-05-14"}
PROBLEM = "application/problem+json"


@pytest.fixture
def ids(stack: Stack) -> dict[str, int]:
    """Channels A (group loud), B and C (quiet), and one named like A's id."""
    log = LogWriter(stack.ws.engine, appid=APPID)
    found = {"A": log.channel("A", "loud"), "B": log.channel("B", "quiet")}
    found["C"] = log.channel("C", "quiet")
    found["named-A"] = log.channel(str(found["A"]))
    log.event("subscribe_scan", "u1", "2024-05-02 10:00", "A")  # the previous period
    log.event("scan", "u1", "2024-05-03 10:00", "B")
    for n in range(4):
        log.event("scan", f"a{n}", "2024-05-08 10:00", "A")
    log.event("subscribe_scan", "u2", "2024-05-09 10:00", "B")
    log.event("scan", "u2", "2024-05-10 10:00", "C")
    log.event("subscribe_scan", "u3", "2024-05-10 11:00", "ghost")  # an orphan
    return found


def _get(stack: Stack, path: str, params: dict[str, Any] | list[tuple[str, Any]]) -> Any:
    with stack.client() as client:
        response = client.get(f"/api/v1/stats/{path}", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def _problem(stack: Stack, path: str, params: dict[str, Any] | list[tuple[str, Any]]) -> Any:
    with stack.client() as client:
        response = client.get(f"/api/v1/stats/{path}", params=params)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    return response.json()


def _pairs(**extra: Any) -> list[tuple[str, Any]]:
    return [*MAY.items(), *extra.items()]


def test_top_narrows_to_the_group_and_the_channels(stack: Stack, ids: dict[str, int]) -> None:
    quiet = _get(stack, "top", {**MAY, "group": "quiet"})
    assert quiet["group"] == "quiet"
    assert [item["channel_id"] for item in quiet["items"]] == [ids["B"], ids["C"]]
    picked = _get(stack, "top", [*MAY.items(), ("channel", f"id:{ids['C']}"), ("channel", "B")])
    assert [item["channel_id"] for item in picked["items"]] == [ids["B"], ids["C"]]
    everyone = _get(stack, "top", MAY)
    assert everyone["items"][0]["channel_id"] == ids["A"]


def test_groups_narrow_and_orphans_refuse_a_scope(stack: Stack, ids: dict[str, int]) -> None:
    assert [g["group"] for g in _get(stack, "groups", MAY)["items"]] == ["loud", "quiet", None]
    quiet = _get(stack, "groups", {**MAY, "group": "quiet"})["items"]
    assert [(g["group"], g["channels"], g["metrics"]["scans"]) for g in quiet] == [("quiet", 2, 2)]
    assert _problem(stack, "groups", {**MAY, "channel": "B"})["field"] == "channel"
    assert [o["scene"] for o in _get(stack, "orphans", MAY)["items"]] == ["ghost"]
    assert _problem(stack, "orphans", {**MAY, "group": "quiet"})["field"] == "group"
    assert _problem(stack, "orphans", {**MAY, "channel": "B"})["field"] == "channel"
    for table in ("orphans", "groups"):
        _problem(stack, "export", {**MAY, "table": table, "channel": "B"})
    with stack.client() as client:
        exported = client.get(
            "/api/v1/stats/export", params={**MAY, "table": "groups"} | {"group": "quiet"}
        )
    assert exported.status_code == 200
    rows = list(csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert [row["group"] for row in rows] == ["quiet"]


def test_channel_references_are_unambiguous(stack: Stack, ids: dict[str, int]) -> None:
    plain = str(ids["A"])
    problem = _problem(stack, "summary", {**MAY, "channel": plain})
    assert problem["field"] == "channel"
    assert f"id:{plain}" in problem["detail"]
    by_id = _get(stack, "summary", {**MAY, "channel": f"id:{plain}"})
    assert by_id["channel_ids"] == [ids["A"]]
    assert by_id["metrics"]["scans"] == 4
    by_name = _get(stack, "summary", {**MAY, "channel": f"name:{plain}"})
    assert by_name["channel_ids"] == [ids["named-A"]]
    assert _get(stack, "summary", {**MAY, "channel": str(ids["B"])})["channel_ids"] == [ids["B"]]


def test_channel_and_group_together_are_refused(stack: Stack, ids: dict[str, int]) -> None:
    problem = _problem(stack, "summary", {**MAY, "channel": "B", "group": "quiet"})
    assert problem["field"] == "group"


def test_summary_and_channels_compare_with_the_previous_period(
    stack: Stack, ids: dict[str, int]
) -> None:
    summary = _get(stack, "summary", {**MAY, "compare": "previous_period"})
    assert summary["comparison"] == {
        "mode": "previous_period",
        "align": "date",
        "from": "2024-05-01",
        "to": "2024-05-07",
    }
    assert summary["metrics"]["scans"] == 7
    assert summary["compare"]["metrics"]["scans"] == 2
    assert summary["compare"]["change"]["scans"] == 5
    assert summary["compare"]["percent"]["scans"] == 250.0
    assert summary["compare"]["percent"]["unfollows"] is None
    channels = {
        item["channel_id"]: item
        for item in _get(stack, "channels", {**MAY, "compare": "previous_period"})["items"]
    }
    assert channels[ids["A"]]["compare"]["change"]["scans"] == 3
    assert channels[ids["C"]]["compare"]["percent"]["scans"] is None
    plain = _get(stack, "channels", MAY)["items"]
    assert all(item["compare"] is None for item in plain)


def test_previous_year_by_weekday_and_an_explicit_window(stack: Stack, ids: dict[str, int]) -> None:
    weekday = _get(stack, "summary", {**MAY, "compare": "previous_year", "align": "weekday"})
    assert (weekday["comparison"]["from"], weekday["comparison"]["to"]) == (
        "2023-05-10",
        "2023-05-16",
    )
    explicit = _get(
        stack, "groups", {**MAY, "compare_from": "2024-05-01", "compare_to": "2024-05-07"}
    )
    assert explicit["comparison"]["mode"] == "custom"
    quiet = next(g for g in explicit["items"] if g["group"] == "quiet")
    assert quiet["compare"]["metrics"]["scans"] == 1


@pytest.mark.parametrize(
    "extra",
    [
        {"align": "weekday"},
        {"compare": "previous_period", "align": "weekday"},
        {"compare_from": "2024-04-01"},
        {"compare": "previous_year", "compare_from": "2024-04-01", "compare_to": "2024-04-02"},
        {"compare": "last_week"},
        {"split": "everything"},
        {"granularity": "decade"},
    ],
)
def test_bad_comparisons_are_422(stack: Stack, ids: dict[str, int], extra: dict[str, str]) -> None:
    _problem(stack, "series", {**MAY, **extra})


def test_series_compare_point_by_point_and_split_by_channel(
    stack: Stack, ids: dict[str, int]
) -> None:
    params = [
        *MAY.items(),
        ("channel", f"id:{ids['B']}"),
        ("channel", "C"),
        ("split", "channel"),
        ("compare", "previous_period"),
    ]
    series = _get(stack, "series", params)
    assert len(series["points"]) == 7
    first = series["points"][0]
    assert first["compare"]["start"].startswith("2024-05-01T00:00:00+08:00")
    assert series["split"] == "channel"
    lines = series["splits"]
    assert [(line["channel_id"], line["name"]) for line in lines] == [
        (ids["B"], "B"),
        (ids["C"], "C"),
    ]
    assert sum(p["scans"] for p in lines[0]["points"]) == 1
    assert sum(p["scans"] for p in lines[1]["points"]) == 1
    assert lines[0]["points"][2]["compare"]["metrics"]["scans"] == 1  # B's scan of May 3
    assert series["points"][1]["scans"] == lines[0]["points"][1]["scans"]
    groups = _get(stack, "series", {**MAY, "split": "group", "granularity": "week"})
    assert [line["group"] for line in groups["splits"]] == ["loud", "quiet", None]
    assert groups["splits"][0]["channel_id"] is None
    assert _get(stack, "series", MAY)["splits"] is None


def test_quarter_and_year_series(stack: Stack, ids: dict[str, int]) -> None:
    params = {"account": APPID, "from": "2024-01-01", "to": "2024-12-31"}
    quarters = _get(stack, "series", {**params, "granularity": "quarter"})["points"]
    assert [p["start"][:10] for p in quarters] == [
        "2024-01-01",
        "2024-04-01",
        "2024-07-01",
        "2024-10-01",
    ]
    assert [p["scans"] for p in quarters] == [0, 9, 0, 0]
    years = _get(stack, "series", {**params, "granularity": "year"})["points"]
    assert [(p["start"][:10], p["end"][:10], p["scans"]) for p in years] == [
        ("2024-01-01", "2025-01-01", 9)
    ]


def test_an_export_of_a_comparison(stack: Stack, ids: dict[str, int]) -> None:
    with stack.client() as client:
        response: httpx.Response = client.get(
            "/api/v1/stats/export",
            params={**MAY, "table": "summary", "compare": "previous_period"},
        )
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert (rows[0]["scans"], rows[0]["base_scans"], rows[0]["percent_scans"]) == (
        "7",
        "2",
        "250.0",
    )
