"""Where webhooks may go: https only, never private, loopback or link-local addresses —
checked at registration and again at every delivery (a name that rebinds to a private
address later is refused then). Names are resolved by a resolver the tests give, so no
traffic ever leaves loopback."""

from __future__ import annotations

import time
from collections.abc import Sequence

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.support.webhook_receiver import Receiver
from wxqr.service.accounts import add_account
from wxqr.service.apikeys import ApiKeyService
from wxqr.service.channel_errors import InvalidInputError
from wxqr.service.ingest import IncomingPush, record_pushes
from wxqr.service.webhooks import (
    AddressPolicy,
    BlockedAddress,
    DispatcherOptions,
    WebhookDispatcher,
    WebhookService,
    blocked_reason,
)
from wxqr.settings import Settings
from wxqr.web.app import create_app

PUBLIC = "93.184.216.34"


class Names:
    """A resolver whose answers the test changes (DNS rebinding)."""

    def __init__(self, **answers: Sequence[str]) -> None:
        self.answers = {name.replace("_", "."): list(a) for name, a in answers.items()}

    def __call__(self, host: str, port: int) -> list[str]:
        if host not in self.answers:
            raise OSError(f"no such name {host}")
        return self.answers[host]


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("127.0.0.1", "loopback"),
        ("169.254.169.254", "link-local"),
        ("::1", "loopback"),
        ("fe80::1", "link-local"),
        ("fd00::1", "private"),
        ("::ffff:10.0.0.1", "private"),
        ("0.0.0.0", "unspecified"),
        (PUBLIC, None),
        ("2606:2800:220:1:248:1893:25c8:1946", None),
    ],
)
def test_blocked_reason(address: str, reason: str | None) -> None:
    found = blocked_reason(address)
    assert found == reason or (reason is not None and found is not None)


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("http://hooks.example.com/x", "https"),
        ("ftp://hooks.example.com/x", "https"),
        ("https://10.0.0.8/x", "private"),
        ("https://127.0.0.1:8443/x", "loopback"),
        ("https://[::1]/x", "loopback"),
        ("https://169.254.169.254/latest/meta-data", "link-local"),
        ("https://internal.example.com/x", "private"),
        ("https://nowhere.example.com/x", "cannot be resolved"),
        ("https://user:pw@hooks.example.com/x", "password"),
        ("not a url", "https"),
    ],
)
def test_registration_refuses(engine: Engine, url: str, words: str) -> None:
    names = Names(hooks_example_com=[PUBLIC], internal_example_com=[PUBLIC, "10.9.8.7"])
    service = WebhookService(engine, AddressPolicy(resolver=names))
    with pytest.raises(InvalidInputError) as caught:
        service.create(url, ["scan"])
    assert words in caught.value.detail
    assert caught.value.field == "url"
    assert service.list_endpoints() == []


def test_registration_accepts_public_https(engine: Engine) -> None:
    service = WebhookService(engine, AddressPolicy(resolver=Names(hooks_example_com=[PUBLIC])))
    made = service.create("https://hooks.example.com/wxqr", ["scan", "follow"])
    assert made.endpoint.url == "https://hooks.example.com/wxqr"
    assert made.endpoint.event_types == ("scan", "follow")
    assert made.secret.startswith("whsec_")
    assert made.secret not in repr(made)
    with pytest.raises(InvalidInputError, match="unknown event type"):
        service.create("https://hooks.example.com/wxqr", ["scan", "purchase"])
    with pytest.raises(InvalidInputError, match="at least one"):
        service.create("https://hooks.example.com/wxqr", [])


def _record_follow(engine: Engine, account_id: int, openid: str) -> None:
    now = int(time.time())
    push = IncomingPush(
        account_id=account_id,
        dedup_key=f"k-{openid}",
        kind="subscribe",
        openid=openid,
        to_user="gh_x",
        msg_type="event",
        event="subscribe",
        event_key="",
        scene=None,
        ticket=None,
        create_time=now,
        received_at=now * 1000,
        raw_xml=None,
    )
    assert record_pushes(engine, [push])[0].inserted


def test_delivery_refuses_a_name_rebound_to_a_private_address(engine: Engine) -> None:
    account = add_account(engine, appid="wxaddr0000000001", token="tok")
    names = Names(hooks_example_com=[PUBLIC])
    policy = AddressPolicy(allow_http=True, resolver=names)
    service = WebhookService(engine, policy)
    endpoint = service.create("https://hooks.example.com/wxqr", ["follow"]).endpoint
    dispatcher = WebhookDispatcher(engine, policy, DispatcherOptions(poll_seconds=0.05))
    dispatcher.start()
    try:
        for rebound in ("10.0.0.7", "127.0.0.1", "169.254.169.254", "::1"):
            names.answers["hooks.example.com"] = [rebound]  # the name now points inside
            _record_follow(engine, account.id, f"o-{rebound}")
            deadline = time.monotonic() + 10
            while True:  # the worker turns the outbox row into a delivery, then tries it
                found = service.deliveries(endpoint.id, limit=1)
                mine = found and found[0].openid == f"o-{rebound}"
                if (mine and found[0].last_error) or time.monotonic() > deadline:
                    break
                time.sleep(0.05)
            latest = found[0]
            assert latest.openid == f"o-{rebound}"
            assert latest.attempts == 1
            assert latest.last_status_code is None
            assert latest.last_error is not None
            assert rebound in latest.last_error
            assert "WXQR_WEBHOOK_ALLOW_PRIVATE" in latest.last_error
    finally:
        dispatcher.stop()


def test_pinned_address_and_host_header(engine: Engine, receiver: Receiver) -> None:
    """The request goes to the checked address, with the endpoint's own name as Host."""
    account = add_account(engine, appid="wxaddr0000000001", token="tok")
    port = receiver.url.rsplit(":", 1)[1]
    names = Names(receiver_test=["127.0.0.1"])
    policy = AddressPolicy(allow_http=True, allow_private=True, resolver=names)
    service = WebhookService(engine, policy)
    service.create(f"http://receiver.test:{port}/hook", ["follow"])
    _record_follow(engine, account.id, "o-pinned")
    dispatcher = WebhookDispatcher(engine, policy, DispatcherOptions(poll_seconds=0.05))
    dispatcher.start()
    try:
        got = receiver.wait_for(lambda r: len(r) >= 1)
    finally:
        dispatcher.stop()
    assert got[0].headers["host"] == f"receiver.test:{port}"


def test_api_refuses_http_and_private_by_default(database_url: str, engine: Engine) -> None:
    settings = Settings(database_url=database_url, worker_enabled=False)
    app = create_app(settings, engine=engine)
    key = ApiKeyService(engine).create("t").secret
    with TestClient(app) as client:
        client.headers["X-API-Key"] = key
        plain = client.post(
            "/api/v1/webhooks", json={"url": "http://a.example/x", "events": ["scan"]}
        )
        assert plain.status_code == 422
        assert plain.headers["content-type"] == "application/problem+json"
        assert "https" in plain.json()["detail"]
        inner = client.post(
            "/api/v1/webhooks", json={"url": "https://127.0.0.1/x", "events": ["scan"]}
        )
        assert inner.status_code == 422
        assert "loopback" in inner.json()["detail"]
        assert client.get("/api/v1/webhooks/999").status_code == 404
        assert client.post("/api/v1/webhooks/999/test").status_code == 404
        assert client.get("/api/v1/webhooks").json() == {"items": []}
        unknown = client.post(
            "/api/v1/webhooks", json={"url": "https://1.1.1.1/x", "events": ["nope"]}
        )
        assert unknown.status_code == 422
        assert unknown.json()["field"] == "events"


def test_blocked_address_is_an_invalid_input() -> None:
    assert issubclass(BlockedAddress, InvalidInputError)
