"""``/api/v1/stats/audience``, ``/stats/retention`` and its CSV export over HTTP: a
channel's codes scanned by emulator users (real signed pushes), then the answers."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import httpx

from tests.support.stack import Stack, openids

CHINA = ZoneInfo("Asia/Shanghai")


def _channel(client: httpx.Client, name: str, group: str) -> dict[str, object]:
    created = client.post("/api/v1/channels", json={"name": name, "group": group, "code": {}})
    assert created.status_code == 201, created.text
    body: dict[str, object] = created.json()
    return body


def test_audience_and_retention_by_first_touch_channel(stack: Stack) -> None:
    run = uuid.uuid4().hex[:6]
    emu = stack.emulator
    users = openids(4)
    with stack.client() as client:
        poster = _channel(client, f"Poster {run}", f"print-{run}")
        shop = _channel(client, f"Shop {run}", f"web-{run}")
        poster_ticket = poster["code"]["ticket"]  # type: ignore[index]
        shop_ticket = shop["code"]["ticket"]  # type: ignore[index]
        for user in users[:3]:
            assert emu.scan(user, ticket=poster_ticket).pushes[0].delivered
        assert emu.scan(users[3], ticket=shop_ticket).pushes[0].delivered
        assert emu.unsubscribe(users[0]).pushes[0].delivered
        assert emu.scan(users[0], ticket=shop_ticket).pushes[0].delivered  # back via the shop
        assert emu.unsubscribe(users[1]).pushes[0].delivered
        today = datetime.now(CHINA).date().isoformat()
        window = {"from": today, "to": today}

        audience = client.get(
            "/api/v1/stats/audience", params={**window, "channel": str(poster["id"])}
        )
        assert audience.status_code == 200, audience.text
        body = audience.json()
        assert body["channel_ids"] == [poster["id"]]
        assert body["followers"] == 2  # u0 (back, first touch: poster) and u2
        assert [row["channel_id"] for row in body["channels"]] == [poster["id"]]
        assert sum(s["followers"] for s in body["sources"]) == 2

        group = client.get("/api/v1/stats/audience", params={**window, "group": f"web-{run}"})
        assert group.status_code == 200, group.text
        assert group.json()["followers"] == 1

        retention = client.get(
            "/api/v1/stats/retention",
            params={**window, "cohort": "day", "unfollow_days": 1, "channel": str(poster["id"])},
        )
        assert retention.status_code == 200, retention.text
        answer = retention.json()
        (cohort,) = answer["cohorts"]
        assert cohort["followers"] == 3
        assert all(cell["retained"] is None for cell in cohort["retention"])  # not D1 yet
        (row,) = answer["channels"]
        assert (row["new_followers"], row["unfollowed"]) == (3, 2)
        assert abs(row["unfollow_rate"] - 2 / 3) < 1e-9

        export = client.get(
            "/api/v1/stats/retention/export", params={**window, "table": "channels"}
        )
        assert export.status_code == 200, export.text
        assert export.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(export.content.decode("utf-8-sig"))))
        by_name = {r["channel"]: r for r in rows}
        assert by_name[f"Shop {run}"]["new_followers"] == "1"


def test_bad_input_is_a_422_problem(stack: Stack) -> None:
    with stack.client() as client:
        cases = [
            ("/api/v1/stats/retention", {"cohort": "year"}),
            ("/api/v1/stats/retention", {"unfollow_days": "0"}),
            ("/api/v1/stats/retention/export", {"table": "people"}),
            ("/api/v1/stats/audience", {"granularity": "hour"}),
            ("/api/v1/stats/audience", {"from": "2024-05-02", "to": "2024-05-01"}),
        ]
        for path, params in cases:
            response = client.get(path, params=params)
            assert response.status_code == 422, (path, params, response.text)
            assert response.headers["content-type"] == "application/problem+json"
        unknown = client.get("/api/v1/stats/audience", params={"channel": "no such channel"})
    assert unknown.status_code == 404
