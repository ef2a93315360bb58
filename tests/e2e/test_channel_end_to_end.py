"""End to end: a channel made through the API, its code scanned by emulator users (signed
pushes to the real webhook over HTTP), and the numbers read back through the stats
endpoint and ``wxqr stats --format json``. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.support.stack import Stack, openids
from wxqr.cli.main import app as cli
from wxqr.protocol import QRRequest
from wxqr.service.stats import METRIC_NAMES
from wxqr.wechat import ClientConfig, SyncWeChatClient

POSTER = {
    "scans": 6,
    "unique_scanners": 5,
    "new_followers": 5,
    "returning_followers": 0,
    "unfollows": 1,
    "net_followers": 4,
}
SHOP = {
    "scans": 3,
    "unique_scanners": 3,
    "new_followers": 1,
    "returning_followers": 1,
    "unfollows": 0,
    "net_followers": 2,
}
# Whole account: both channels plus one orphan scan that is also a new follow.
ACCOUNT = {
    "scans": 10,
    "unique_scanners": 7,
    "new_followers": 7,
    "returning_followers": 1,
    "unfollows": 1,
    "net_followers": 7,
}


def _metrics_in(data: Any) -> dict[str, int]:
    """The metrics object of a stats JSON document (keys exactly the metric names)."""
    if isinstance(data, dict):
        if set(METRIC_NAMES) <= set(data):
            return {name: data[name] for name in METRIC_NAMES}
        for key in ("metrics", "summary", "totals"):
            if key in data:
                return _metrics_in(data[key])
    raise AssertionError(f"no metrics in {data!r}")


def _scan_story(stack: Stack, poster: dict[str, Any], shop: dict[str, Any]) -> None:
    emu = stack.emulator
    users = openids(7)
    poster_ticket, shop_ticket = poster["code"]["ticket"], shop["code"]["ticket"]
    for user in users[:5]:  # five new followers through the poster
        assert emu.scan(user, ticket=poster_ticket).pushes[0].delivered
    emu.scan(users[0], ticket=poster_ticket)  # a follower scans again: SCAN
    emu.scan(users[1], ticket=shop_ticket)  # a follower scans the shop: SCAN
    emu.unsubscribe(users[2])  # first touch: the poster loses one
    emu.scan(users[2], ticket=shop_ticket)  # ...who comes back through the shop
    emu.scan(users[5], ticket=shop_ticket)  # a new follower through the shop
    config = ClientConfig(
        appid=stack.account.appid,
        secret="emulator-secret",
        api_base=emu.base_url,
        mp_base=emu.base_url,
    )
    with SyncWeChatClient(config) as client:  # a code wxqr never issued
        legacy = client.create_qrcode(QRRequest.permanent("legacy-e2e")).ticket
    emu.scan(users[6], ticket=legacy)


def test_channel_scans_reach_the_stats(stack: Stack, database_url: str) -> None:
    with stack.client() as client:
        poster = client.post(
            "/api/v1/channels", json={"name": "Poster E2E", "group": "posters", "code": {}}
        ).json()
        shop = client.post(
            "/api/v1/channels",
            json={"name": "Shop E2E", "group": "shops", "code": {"scene_type": "str"}},
        ).json()
        _scan_story(stack, poster, shop)

        def summary(**params: Any) -> dict[str, int]:
            response = client.get("/api/v1/stats/summary", params=params)
            assert response.status_code == 200, response.text
            return _metrics_in(response.json())

        assert summary(channel=poster["id"]) == POSTER
        assert summary(channel="Shop E2E") == SHOP
        assert summary(group="shops") == SHOP
        assert summary() == ACCOUNT

        series = client.get(
            "/api/v1/stats/series", params={"channel": poster["id"], "granularity": "day"}
        ).json()
        assert len(series["points"]) == 30
        assert sum(p["scans"] for p in series["points"]) == POSTER["scans"]
        per_channel = client.get("/api/v1/stats/channels").json()["items"]
        assert {row["name"]: row["metrics"] for row in per_channel} == {
            "Poster E2E": POSTER,
            "Shop E2E": SHOP,
        }
        orphans = client.get("/api/v1/stats/orphans").json()["items"]
        assert [(o["scene"], o["scans"], o["follows"]) for o in orphans] == [("legacy-e2e", 1, 1)]
        exported = client.get("/api/v1/stats/export", params={"table": "channels"})
        assert exported.headers["content-type"].startswith("text/csv")
        assert "Poster E2E,posters,active,6,5,5,0,1,4" in exported.text

        events = client.get("/api/v1/events", params={"limit": 4}).json()
        assert len(events["items"]) == 4
        assert events["next_after_id"] == events["items"][-1]["id"]
        kinds = [e["kind"] for e in events["items"]]
        while events["next"] is not None:
            events = client.get(events["next"]).json()
            kinds += [e["kind"] for e in events["items"]]
        assert kinds.count("subscribe_scan") == 8
        assert kinds.count("scan") == 2
        assert kinds.count("unsubscribe") == 1
        assert len(kinds) == 11

    runner = CliRunner()
    env = {"WXQR_DATABASE_URL": database_url}
    for args, expected in (
        (["stats", "--channel", "Poster E2E", "--format", "json"], POSTER),
        (["stats", "--channel", "Shop E2E", "--format", "json"], SHOP),
        (["stats", "--format", "json"], ACCOUNT),
    ):
        result = runner.invoke(cli, args, env=env)
        assert result.exit_code == 0, result.output
        printed = json.loads(result.stdout)
        # the six metric names first, then the conversion (docs/metrics.md, "Conversion")
        assert list(printed)[: len(METRIC_NAMES)] == list(METRIC_NAMES)
        assert {name: printed[name] for name in METRIC_NAMES} == expected
        assert printed["follow_scans"] + printed["follower_scans"] == expected["scans"]
        rate = expected["new_followers"] / expected["unique_scanners"]
        assert printed["conversion_rate"] == pytest.approx(rate, abs=1e-4)
