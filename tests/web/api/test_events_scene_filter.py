"""``GET /api/v1/events?scene=…`` returns the scans of that scene only (it used to be
ignored and return everything)."""

from __future__ import annotations

from tests.support.stack import Stack, openids


def test_scene_filter(stack: Stack) -> None:
    with stack.client() as client:
        tickets = {}
        for name in ("poster", "shop"):
            body = {"name": name, "code": {"kind": "permanent", "scene_type": "str", "scene": name}}
            created = client.post("/api/v1/channels", json=body)
            assert created.status_code == 201, created.text
            tickets[name] = created.json()["code"]["ticket"]
        users = openids(3)
        stack.emulator.scan(users[0], ticket=tickets["poster"])
        stack.emulator.scan(users[1], ticket=tickets["shop"])
        stack.emulator.scan(users[2], ticket=tickets["poster"])
        poster = client.get("/api/v1/events", params={"scene": "poster"}).json()["items"]
        shop = client.get("/api/v1/events", params={"scene": "shop"}).json()["items"]
        none = client.get("/api/v1/events", params={"scene": "nothing"}).json()["items"]
        everything = client.get("/api/v1/events").json()["items"]
        too_long = client.get("/api/v1/events", params={"scene": "x" * 65})
    assert [e["openid"] for e in poster] == [users[0], users[2]]
    assert {e["scene"] for e in poster} == {"poster"}
    assert [e["openid"] for e in shop] == [users[1]]
    assert none == []
    assert len(everything) == 3
    assert too_long.status_code == 422
