"""wxqr serving the emulator's pushes, the REST API, and a delivery worker with a short
retry schedule, all over real HTTP on loopback."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import Engine

from tests.support.stack import APPID, SECRET, TOKEN
from wxqr.emulator.testing import RunningEmulator, serve_app
from wxqr.service.accounts import add_account, get_account
from wxqr.service.webhooks import AddressPolicy, DispatcherOptions, WebhookDispatcher
from wxqr.service.workspace import Workspace
from wxqr.settings import Settings
from wxqr.store.engines import make_writer_engine
from wxqr.web.app import create_app

SHORT_SCHEDULE = (0.2, 0.4, 0.8, 1.0, 1.0, 1.0, 1.0, 1.0)


def stack_settings(database_url: str, emulator: RunningEmulator) -> Settings:
    return Settings(
        database_url=database_url,
        wechat_api_base=emulator.base_url,
        wechat_mp_base=emulator.base_url,
        push_max_age_seconds=0,
        worker_enabled=False,
        webhook_allow_http=True,
        webhook_allow_private=True,
    )


@dataclass
class WebhookStack:
    ws: Workspace
    emulator: RunningEmulator
    base_url: str
    api_key: str
    dispatcher: WebhookDispatcher

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, headers={"X-API-Key": self.api_key}, timeout=30)

    def add_webhook(self, url: str, events: list[str], **extra: Any) -> dict[str, Any]:
        with self.client() as client:
            response = client.post("/api/v1/webhooks", json={"url": url, "events": events, **extra})
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    def channel_with_code(self, name: str, scene: str, payload: Any = None) -> dict[str, Any]:
        body = {
            "name": name,
            "payload": payload,
            "code": {"kind": "permanent", "scene_type": "str", "scene": scene},
        }
        with self.client() as client:
            response = client.post("/api/v1/channels", json=body)
        assert response.status_code == 201, response.text
        channel: dict[str, Any] = response.json()
        return channel


@contextmanager
def webhook_stack(
    engine: Engine,
    database_url: str,
    emulator: RunningEmulator,
    *,
    schedule: tuple[float, ...] = SHORT_SCHEDULE,
    start_dispatcher: bool = True,
) -> Iterator[WebhookStack]:
    if get_account(engine, APPID) is None:
        add_account(engine, appid=APPID, token=TOKEN, app_secret=SECRET)
    settings = stack_settings(database_url, emulator)
    ws = Workspace.open(engine, settings)
    key = ws.api_keys.create(f"test-{uuid.uuid4().hex[:6]}").secret
    app = create_app(settings, engine=engine)
    dispatcher_engine = make_writer_engine(database_url)
    dispatcher = WebhookDispatcher(
        dispatcher_engine,
        AddressPolicy(allow_http=True, allow_private=True),
        DispatcherOptions(
            poll_seconds=0.05, retry_schedule=schedule, lease_seconds=3.0, timeout_seconds=2.0
        ),
    )
    with serve_app(app) as base_url:
        emulator.set_push_url(APPID, f"{base_url}/wechat/{APPID}")
        if start_dispatcher:
            dispatcher.start()
        try:
            yield WebhookStack(ws, emulator, base_url, key, dispatcher)
        finally:
            dispatcher.stop()
            emulator.set_push_url(APPID, None)
            dispatcher_engine.dispose()
