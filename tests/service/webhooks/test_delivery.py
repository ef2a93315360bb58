"""Every event type reaches a real local receiver, signed so that the independent
``standardwebhooks`` package accepts it; ordering, outages, rotation, 410, redirects,
retry and replay. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, select, update

from tests.support.stack import openids
from tests.support.webhook_receiver import Receiver, running_receiver
from tests.support.webhook_stack import WebhookStack, webhook_stack
from wxqr.emulator.testing import RunningEmulator
from wxqr.service.webhooks._outbox import fan_out
from wxqr.store import tables as t

ALL = ["scan", "follow", "unfollow"]


def _deliveries(
    stack: WebhookStack,
    webhook_id: int,
    until: Callable[[dict[str, Any]], bool] | None = None,
    **params: Any,
) -> dict[str, Any]:
    """The deliveries page; with ``until``, polled until it holds (the worker records an
    attempt just after the receiver has answered)."""
    deadline = time.monotonic() + 10
    while True:
        with stack.client() as client:
            response = client.get(f"/api/v1/webhooks/{webhook_id}/deliveries", params=params)
        assert response.status_code == 200, response.text
        page: dict[str, Any] = response.json()
        if until is None or until(page) or time.monotonic() > deadline:
            return page
        time.sleep(0.05)


def test_every_event_type_is_delivered_signed(
    engine: Engine, database_url: str, emulator: RunningEmulator, receiver: Receiver
) -> None:
    with webhook_stack(engine, database_url, emulator) as stack:
        hook = stack.add_webhook(receiver.url + "/hooks/wxqr", ALL, description="orders")
        assert hook["secret"].startswith("whsec_")
        assert hook["enabled"] is True
        channel = stack.channel_with_code("order-page", "order-1001", {"order_id": 1001})
        ticket = channel["code"]["ticket"]
        (new_user,) = openids(1)
        assert emulator.scan(new_user, ticket=ticket).pushes[0].delivered  # subscribe by scan
        assert emulator.scan(new_user, ticket=ticket).pushes[0].delivered  # SCAN
        emulator.unsubscribe(new_user)
        with stack.client() as client:
            assert client.post(f"/api/v1/webhooks/{hook['id']}/test").status_code == 202

        got = receiver.wait_for(lambda r: len(r) >= 5)
        documents = {}
        for item in got:
            verified = item.verify(hook["secret"])  # raises when the signature is wrong
            assert verified["id"] == item.message_id
            documents.setdefault(verified["type"], []).append(verified)
        assert sorted((k, len(v)) for k, v in documents.items()) == [
            ("follow", 1),
            ("ping", 1),
            ("scan", 2),
            ("unfollow", 1),
        ]
        first_scan, second_scan = documents["scan"]
        assert first_scan["account"] == "wxemulator00000001"
        assert first_scan["data"]["scene"] == "order-1001"
        assert first_scan["data"]["openid"] == new_user
        assert first_scan["data"]["new_follow"] is True
        assert second_scan["data"]["new_follow"] is False
        assert first_scan["data"]["orphan"] is False
        assert first_scan["data"]["channel"] == {"id": channel["id"], "name": "order-page"}
        assert first_scan["data"]["payload"] == {"order_id": 1001}
        assert first_scan["data"]["code"]["scene"] == "order-1001"
        assert documents["follow"][0]["data"]["channel"]["id"] == channel["id"]
        # An unfollow carries the channel the follower is attributed to.
        assert documents["unfollow"][0]["data"]["channel"]["id"] == channel["id"]
        assert documents["ping"][0]["data"]["endpoint_id"] == hook["id"]

        page = _deliveries(
            stack, hook["id"], lambda p: p["stats"]["delivered"] == 5, status="delivered"
        )
        assert len(page["items"]) == 5
        assert page["stats"]["delivered"] == 5
        assert page["stats"]["pending"] == 0
        assert all(item["delivered_at"] and item["attempts"] == 1 for item in page["items"])
        assert page["stats"]["lag_p99_ms"] is not None


def test_orphan_scan_and_subscription_filter(
    engine: Engine, database_url: str, emulator: RunningEmulator, receiver: Receiver
) -> None:
    with webhook_stack(engine, database_url, emulator) as stack:
        hook = stack.add_webhook(receiver.url, ["scan"])
        other = Receiver()
        with running_receiver(other):
            stack.add_webhook(other.url, ["unfollow"])
            (user,) = openids(1)
            emulator.follow(user)  # a plain follow: neither endpoint subscribes to follow
            channel = stack.channel_with_code("poster", "poster-1")
            emulator.scan(user, ticket=channel["code"]["ticket"])
            got = receiver.wait_for(lambda r: len(r) >= 1)
            time.sleep(0.5)
            assert other.snapshot() == []
        assert [r.document["type"] for r in receiver.snapshot()] == ["scan"]
        got[0].verify(hook["secret"])


def test_receiver_down_for_a_while_gets_everything(
    engine: Engine, database_url: str, emulator: RunningEmulator
) -> None:
    down = Receiver()
    with running_receiver(down) as first:
        url = first.url
    port = int(url.rsplit(":", 1)[1])
    with webhook_stack(engine, database_url, emulator) as stack:
        hook = stack.add_webhook(url, ["follow"])
        users = openids(5)
        for user in users:
            emulator.follow(user)  # the receiver is down: connection refused
        time.sleep(1.0)
        page = _deliveries(stack, hook["id"])
        assert page["stats"]["pending"] == 5
        assert all(item["last_error"] for item in page["items"] if item["attempts"])
        back = Receiver()
        with running_receiver(back, port=port):
            got = back.wait_for(lambda r: len({x.message_id for x in r}) >= 5, timeout=30)
        assert {r.document["data"]["openid"] for r in got} == set(users)
        for item in got:
            item.verify(hook["secret"])
        page = _deliveries(stack, hook["id"], lambda p: p["stats"]["delivered"] == 5)
        assert page["stats"]["delivered"] == 5
        assert all(item["attempts"] >= 2 for item in page["items"])


def test_one_openids_events_arrive_in_order(
    engine: Engine, database_url: str, emulator: RunningEmulator, receiver: Receiver
) -> None:
    refused_once: set[str] = set()

    def flaky(document: dict[str, Any]) -> int | None:
        # The first try of every user's first event fails: later events must wait for it.
        if document["type"] == "follow" and document["id"] not in refused_once:
            refused_once.add(document["id"])
            return 503
        return None

    receiver.answer = flaky
    with webhook_stack(engine, database_url, emulator) as stack:
        stack.add_webhook(receiver.url, ALL)
        channel = stack.channel_with_code("tv", "tv-1")
        ticket = channel["code"]["ticket"]
        users = openids(4)
        for user in users:
            emulator.follow(user)
            emulator.scan(user, ticket=ticket)
            emulator.unsubscribe(user)
        receiver.wait_for(
            lambda r: len({x.message_id for x in r if x.headers and x.document}) >= 12, timeout=30
        )
    accepted: dict[str, list[str]] = {}
    seen: set[str] = set()
    for item in receiver.snapshot():
        doc = item.document
        if doc["type"] == "follow" and doc["id"] not in seen:
            seen.add(doc["id"])
            continue  # the refused first try
        accepted.setdefault(doc["data"]["openid"], []).append(doc["type"])
    assert set(accepted) == set(users)
    for user in users:
        assert accepted[user] == ["follow", "scan", "unfollow"], accepted[user]


def test_rotated_secret_both_accepted_during_overlap(
    engine: Engine, database_url: str, emulator: RunningEmulator, receiver: Receiver
) -> None:
    with webhook_stack(engine, database_url, emulator) as stack:
        hook = stack.add_webhook(receiver.url, ["follow"])
        with stack.client() as client:
            rotated = client.post(f"/api/v1/webhooks/{hook['id']}/rotate-secret").json()
            shown = client.get(f"/api/v1/webhooks/{hook['id']}").json()
        assert rotated["secret"] != hook["secret"]
        assert rotated["rotating_until"]
        assert "secret" not in shown
        emulator.follow(openids(1)[0])
        got = receiver.wait_for(lambda r: len(r) >= 1)
        got[0].verify(hook["secret"])  # a receiver still on the old secret
        got[0].verify(rotated["secret"])  # and one already on the new
        assert len(got[0].headers["webhook-signature"].split(" ")) == 2


def test_gone_disables_and_redirects_are_not_followed(
    engine: Engine, database_url: str, emulator: RunningEmulator, receiver: Receiver
) -> None:
    receiver.status = 410
    redirecting = Receiver(status=302)
    with webhook_stack(engine, database_url, emulator) as stack, running_receiver(redirecting):
        gone = stack.add_webhook(receiver.url, ["follow"])
        moved = stack.add_webhook(redirecting.url + "/hook", ["follow"])
        emulator.follow(openids(1)[0])
        receiver.wait_for(lambda r: len(r) >= 1)
        redirecting.wait_for(lambda r: len(r) >= 1)
        deadline = time.monotonic() + 10
        with stack.client() as client:
            while True:
                shown = client.get(f"/api/v1/webhooks/{gone['id']}").json()
                if not shown["enabled"] or time.monotonic() > deadline:
                    break
                time.sleep(0.05)
            assert shown["enabled"] is False
            assert "410" in shown["disabled_reason"]
            moved_shown = client.get(f"/api/v1/webhooks/{moved['id']}").json()
            assert moved_shown["enabled"] is True
        item = _deliveries(stack, moved["id"], lambda p: p["items"][0]["attempts"] > 0)["items"][0]
        assert item["last_status_code"] == 302
        assert "not followed" in item["last_error"]
        # Only the hook's own path was ever requested (never the Location).
        assert all(r.body for r in redirecting.snapshot())
        assert len(receiver.snapshot()) == 1


def test_failing_for_a_day_disables(
    engine: Engine, database_url: str, emulator: RunningEmulator, receiver: Receiver
) -> None:
    receiver.status = 500
    with webhook_stack(engine, database_url, emulator) as stack:
        hook = stack.add_webhook(receiver.url, ["follow"])
        with engine.begin() as conn:  # it has been failing since yesterday
            conn.execute(
                update(t.webhook_endpoints)
                .where(t.webhook_endpoints.c.id == hook["id"])
                .values(failing_since=int(time.time()) - 86401)
            )
        emulator.follow(openids(1)[0])
        receiver.wait_for(lambda r: len(r) >= 1)
        deadline = time.monotonic() + 10
        while True:
            with stack.client() as client:
                shown = client.get(f"/api/v1/webhooks/{hook['id']}").json()
            if not shown["enabled"] or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert shown["enabled"] is False
        assert "a day" in shown["disabled_reason"]
        # Enabling it again clears the failure state.
        with stack.client() as client:
            again = client.patch(f"/api/v1/webhooks/{hook['id']}", json={"enabled": True}).json()
        assert again["enabled"] is True
        assert again["disabled_reason"] is None


def test_failed_then_retry_and_replay_keep_the_message_id(
    engine: Engine, database_url: str, emulator: RunningEmulator, receiver: Receiver
) -> None:
    receiver.status = 500
    with webhook_stack(engine, database_url, emulator, schedule=(0.1,)) as stack:
        hook = stack.add_webhook(receiver.url, ["follow"])
        emulator.follow(openids(1)[0])
        receiver.wait_for(lambda r: len(r) >= 2)  # the first try and the one retry
        deadline = time.monotonic() + 10
        while not _deliveries(stack, hook["id"], status="failed")["items"]:
            assert time.monotonic() < deadline
            time.sleep(0.1)
        failed = _deliveries(stack, hook["id"], status="failed")["items"][0]
        assert failed["attempts"] == 2
        assert failed["last_status_code"] == 500
        receiver.status = 200
        with stack.client() as client:
            retried = client.post(f"/api/v1/webhooks/{hook['id']}/deliveries/{failed['id']}/retry")
            assert retried.status_code == 200
            assert retried.json()["status"] == "pending"
        receiver.wait_for(lambda r: len(r) >= 3)
        with stack.client() as client:
            replay = client.post(f"/api/v1/webhooks/{hook['id']}/replay", params={"since": "0"})
            assert replay.status_code == 202
            assert replay.json()["queued"] == 1
            bad = client.post(
                f"/api/v1/webhooks/{hook['id']}/replay", params={"since": "yesterday"}
            )
            assert bad.status_code == 422
            assert bad.headers["content-type"] == "application/problem+json"
        got = receiver.wait_for(lambda r: len(r) >= 4)
        assert len({r.message_id for r in got}) == 1  # the same webhook-id every time
        assert len({r.body for r in got}) == 1
        for item in got:
            item.verify(hook["secret"])


def test_outbox_row_is_in_the_events_transaction(
    engine: Engine, database_url: str, emulator: RunningEmulator, receiver: Receiver
) -> None:
    with webhook_stack(engine, database_url, emulator, start_dispatcher=False) as stack:
        hook = stack.add_webhook(receiver.url, ["follow"])
        disabled = stack.add_webhook(receiver.url, ["follow"])
        with stack.client() as client:
            client.patch(f"/api/v1/webhooks/{disabled['id']}", json={"enabled": False})
        user = openids(1)[0]
        assert emulator.follow(user).pushes[0].delivered
        # Answered success => its outbox row is already committed (no worker running).
        with engine.connect() as conn:
            outbox = conn.execute(select(t.webhook_outbox.c.openid, t.webhook_outbox.c.kind))
            assert [tuple(r) for r in outbox] == [(user, "subscribe")]
        assert fan_out(engine) == 1
        with engine.connect() as conn:
            rows = conn.execute(
                select(t.webhook_deliveries.c.endpoint_id, t.webhook_deliveries.c.openid)
            ).all()
            assert conn.execute(select(t.webhook_outbox.c.id)).all() == []
        assert [tuple(r) for r in rows] == [(hook["id"], user)]  # not the disabled one
    assert receiver.snapshot() == []


def test_no_outbox_rows_without_an_enabled_endpoint(
    engine: Engine, database_url: str, emulator: RunningEmulator, receiver: Receiver
) -> None:
    with webhook_stack(engine, database_url, emulator, start_dispatcher=False) as stack:
        hook = stack.add_webhook(receiver.url, ["follow"])
        with stack.client() as client:
            client.patch(f"/api/v1/webhooks/{hook['id']}", json={"enabled": False})
        assert emulator.follow(openids(1)[0]).pushes[0].delivered
        with engine.connect() as conn:
            assert conn.execute(select(t.webhook_outbox.c.id)).all() == []
