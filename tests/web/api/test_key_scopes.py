"""API key scopes (issue 14 item 6): a key touches only its accounts, a read-only key
only reads, and every data route is checked (the route table must cover the API)."""

from __future__ import annotations

import base64
import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from tests.support.artwork import plain_image
from tests.support.db_helpers import add_binding, age_session
from tests.support.stack import APPID, Stack, running_stack, sqlite_copy
from wxqr.cli.main import app
from wxqr.emulator.testing import RunningEmulator
from wxqr.service.access import AccessScope
from wxqr.service.accounts import add_account
from wxqr.service.errors import NotFoundError
from wxqr.service.scan_sessions import NewScanSession
from wxqr.store.db import make_engine

OTHER = "wxotheraccount0001"
PROBLEM = "application/problem+json"
# posters: a template's artwork (base64 PNG) and layout
ART = base64.b64encode(plain_image((600, 800))).decode("ascii")
LAYOUT = {"code": {"x": 100, "y": 100, "size": 400}}
LOGO = base64.b64encode(plain_image((64, 64))).decode("ascii")


@dataclass(frozen=True)
class Route:
    method: str
    template: str
    # What the request sends beyond the path: query parameters and a JSON or CSV body.
    params: dict[str, Any] | None = None
    json: dict[str, Any] | None = None
    csv: str | None = None

    @property
    def writes(self) -> bool:
        return self.method not in {"GET", "HEAD"}


# Every data route, aimed at account A's objects (or naming account A).
ROUTES = [
    Route("GET", "/api/v1/accounts/{appid}"),
    Route("GET", "/api/v1/channels", params={"account": "{appid}"}),
    Route("POST", "/api/v1/channels", json={"account": "{appid}", "name": "Intruder {run}"}),
    Route(
        "POST",
        "/api/v1/channels/bulk",
        params={"account": "{appid}"},
        csv="name\nIntruder bulk {run}\n",
    ),
    Route("GET", "/api/v1/channels/{channel_id}"),
    Route("PATCH", "/api/v1/channels/{channel_id}", json={"name": "Stolen {run}"}),
    Route("DELETE", "/api/v1/channels/{channel_id}"),
    Route("GET", "/api/v1/channels/{channel_id}/codes"),
    Route("POST", "/api/v1/channels/{channel_id}/codes", json={}),
    Route("GET", "/api/v1/channels/{channel_id}/image"),
    Route("GET", "/api/v1/codes/zip", params={"account": "{appid}"}),
    Route("GET", "/api/v1/codes/{code_id}"),
    Route("GET", "/api/v1/codes/{code_id}/image"),
    *(
        Route("GET", f"/api/v1/stats/{name}", params={"account": "{appid}"})
        for name in (
            "summary",
            "channels",
            "groups",
            "series",
            "top",
            "orphans",
            "sessions",
            "export",
        )
    ),
    *(  # stats-retention:
        Route("GET", f"/api/v1/stats/{name}", params={"account": "{appid}"})
        for name in ("audience", "retention", "retention/export", "reconcile")
    ),
    Route("GET", "/api/v1/events", params={"account": "{appid}"}),
    Route(
        "POST",
        "/api/v1/webhooks",
        json={"url": "http://127.0.0.1:9/{run}", "events": ["scan"], "account": "{appid}"},
    ),
    Route("GET", "/api/v1/webhooks/{webhook_id}"),
    Route("PATCH", "/api/v1/webhooks/{webhook_id}", json={"description": "Stolen {run}"}),
    Route("DELETE", "/api/v1/webhooks/{webhook_id}"),
    Route("POST", "/api/v1/webhooks/{webhook_id}/rotate-secret"),
    Route("POST", "/api/v1/webhooks/{webhook_id}/test"),
    Route("GET", "/api/v1/webhooks/{webhook_id}/deliveries"),
    Route("POST", "/api/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/retry"),
    Route("POST", "/api/v1/webhooks/{webhook_id}/replay", params={"since": "2020-01-01"}),
    Route("POST", "/api/v1/scan-sessions", json={"account": "{appid}", "purpose": "login"}),
    Route("GET", "/api/v1/scan-sessions/{session_id}"),
    Route("DELETE", "/api/v1/scan-sessions/{session_id}"),
    Route("GET", "/api/v1/scan-sessions/{session_id}/events"),
    Route("GET", "/api/v1/bindings", params={"account": "{appid}"}),
    Route("DELETE", "/api/v1/bindings/{binding_id}"),
    # posters:
    Route("GET", "/api/v1/poster-templates", params={"account": "{appid}"}),
    Route(
        "POST",
        "/api/v1/poster-templates",
        json={"account": "{appid}", "name": "Intruder {run}", "artwork": ART, "layout": LAYOUT},
    ),
    Route("GET", "/api/v1/poster-templates/{template_id}"),
    Route("PATCH", "/api/v1/poster-templates/{template_id}", json={"layout": LAYOUT}),
    Route("DELETE", "/api/v1/poster-templates/{template_id}"),
    Route("GET", "/api/v1/poster-templates/{template_id}/preview"),
    Route("POST", "/api/v1/poster-templates/{template_id}/preview", json={"layout": LAYOUT}),
    Route("GET", "/api/v1/channels/{channel_id}/poster", params={"template": "Poster {run}"}),
    Route(  # posters2: the zip of a group's posters
        "GET", "/api/v1/poster-templates/{template_id}/zip", params={"group": "Poster {run}"}
    ),
    Route("PUT", "/api/v1/accounts/{appid}/logo", json={"logo": LOGO}),
    Route("DELETE", "/api/v1/accounts/{appid}/logo"),
    Route("PUT", "/api/v1/channels/{channel_id}/logo", json={"logo": LOGO}),
    Route("DELETE", "/api/v1/channels/{channel_id}/logo"),
    Route("GET", "/api/v1/code-styles", params={"account": "{appid}"}),
    Route("PUT", "/api/v1/code-styles", json={"account": "{appid}", "style": {"size": 400}}),
    Route("DELETE", "/api/v1/code-styles", params={"account": "{appid}"}),
    Route("GET", "/api/v1/channels/{channel_id}/styled-image"),
    # lifecycle: expiring codes, renewal settings, quotas
    Route("GET", "/api/v1/codes", params={"account": "{appid}", "expiring_within": "7d"}),
    Route("GET", "/api/v1/channels/{channel_id}/renewal"),
    Route("PUT", "/api/v1/channels/{channel_id}/renewal", json={"auto_renew": True}),
    Route("GET", "/api/v1/accounts/{appid}/quota"),
]
# Routes that name no object of an account: the scope filters what they list.
LISTS = [Route("GET", "/api/v1/accounts"), Route("GET", "/api/v1/webhooks")]
# The browser's poll URLs: no API key, the session's poll token instead
# (tests/service/scan_sessions).
POLL_ROUTES = [
    Route("GET", "/api/v1/scan-sessions/{session_id}/status"),
    Route("GET", "/api/v1/scan-sessions/{session_id}/status/events"),
]


@dataclass
class World:
    stack: Stack
    channel_id: int
    code_id: int
    webhook_id: int  # an outbound webhook endpoint of account A, with one delivery
    delivery_id: int
    session_id: int  # a (cancelled) scan session of account A
    binding_id: int  # a binding of account A
    run: str  # unique to the test: its channel is "Poster <run>"
    template_id: int = 0  # posters: a poster template of account A, "Poster <run>"

    @property
    def name(self) -> str:
        return f"Poster {self.run}"

    def untouched(self) -> bool:
        channel = self.stack.ws.channels.get(self.channel_id)
        names = [c.name for c in self.stack.ws.channels.list_channels(self.stack.account.id)]
        webhooks = self.stack.ws.webhooks
        endpoint = webhooks.get(self.webhook_id)
        return (
            channel.name == self.name
            and channel.status == "active"
            and not any(self.run in n and n != self.name for n in names)
            and endpoint.description == self.name
            and not any(self.run in e.url for e in webhooks.list_endpoints())
        )

    def key(self, label: str, accounts: list[str] | None, read_only: bool = False) -> str:
        created = self.stack.ws.api_keys.create(
            f"{label}-{self.run}", accounts=accounts, read_only=read_only
        )
        return created.secret

    def send(self, client: httpx.Client, route: Route) -> httpx.Response:
        values = {
            "appid": APPID,
            "channel_id": self.channel_id,
            "code_id": self.code_id,
            "webhook_id": self.webhook_id,
            "delivery_id": self.delivery_id,
            "session_id": self.session_id,
            "binding_id": self.binding_id,
            "run": self.run,
            "template_id": self.template_id,
        }
        path = route.template.format(**values)
        params = {k: str(v).format(**values) for k, v in (route.params or {}).items()}
        body = {
            k: v.format(**values) if isinstance(v, str) else v
            for k, v in (route.json or {}).items()
        }
        if route.csv is not None:
            return client.request(
                route.method,
                path,
                params=params,
                content=route.csv.format(**values),
                headers={"content-type": "text/csv"},
            )
        if route.json is not None:
            return client.request(route.method, path, params=params, json=body)
        return client.request(route.method, path, params=params)


@pytest.fixture(scope="module")
def scope_db(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    """One database for the module: each test makes its own channel and keys in it."""
    return sqlite_copy(sqlite_template, tmp_path_factory.mktemp("scopes"))


@pytest.fixture(scope="module")
def scope_stack(scope_db: str, emulator: RunningEmulator) -> Iterator[Stack]:
    engine = make_engine(scope_db)
    try:
        add_account(engine, appid=OTHER, token="other-token", app_secret="other-secret")
        with running_stack(engine, scope_db, emulator) as running:
            yield running
    finally:
        engine.dispose()


@pytest.fixture
def world(scope_stack: Stack) -> World:
    run = uuid.uuid4().hex[:8]
    with scope_stack.client() as client:
        created = client.post(
            "/api/v1/channels",
            json={"account": APPID, "name": f"Poster {run}", "code": {}, "group": f"Poster {run}"},
        )
    assert created.status_code == 201, created.text
    body = created.json()
    webhooks = scope_stack.ws.webhooks
    endpoint = webhooks.create(
        "http://127.0.0.1:9/hook", ["scan"], account=APPID, description=f"Poster {run}"
    ).endpoint
    delivery = webhooks.send_test(endpoint.id)
    # Past the sessions-per-minute limit, and not counted in it: one per test.
    sessions = replace(scope_stack.ws.scan_sessions, per_minute=10**9)
    session = sessions.create(scope_stack.account.id, NewScanSession("login")).session
    sessions.cancel(session.id)  # its SSE stream ends at once
    age_session(scope_stack.ws.engine, session.id, 120)
    binding_id = add_binding(scope_stack.ws.engine, scope_stack.account.id, f"user-{run}", "o-b")
    template = scope_stack.ws.posters.add_template(  # posters:
        scope_stack.account.id, f"Poster {run}", base64.b64decode(ART), LAYOUT
    )
    return World(
        scope_stack,
        body["id"],
        body["code"]["id"],
        endpoint.id,
        delivery.id,
        session.id,
        binding_id,
        run,
        template.id,
    )


def test_the_route_table_covers_every_data_route(scope_stack: Stack) -> None:
    with scope_stack.client() as client:
        spec = client.get("/api/v1/openapi.json").json()
    served = {(m.upper(), p) for p, ops in spec["paths"].items() for m in ops}
    listed = {(r.method, r.template) for r in ROUTES + LISTS + POLL_ROUTES}
    # The path parameter of one account is named {appid} in both.
    assert served == listed


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r.method} {r.template}")
def test_a_key_of_another_account_finds_nothing_of_this_one(world: World, route: Route) -> None:
    other_key = world.key("other-only", [OTHER])
    with world.stack.client(key=other_key) as client:
        response = world.send(client, route)
    assert response.status_code == 404, (route, response.text)
    assert response.headers["content-type"] == PROBLEM
    # The same answer as for an object that does not exist: nothing tells it is there.
    assert world.name not in response.text
    assert world.untouched()


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r.method} {r.template}")
def test_a_key_of_this_account_reaches_the_same_route(world: World, route: Route) -> None:
    """The 404s above are the scope's doing: a key of account A gets past them."""
    own_key = world.key("a-only", [APPID])
    with world.stack.client(key=own_key) as client:
        response = world.send(client, route)
    assert response.status_code in {200, 201, 202, 204}, (route, response.text)


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r.method} {r.template}")
def test_a_read_only_key_reads_and_is_forbidden_to_write(world: World, route: Route) -> None:
    reader = world.key("reader", [APPID], read_only=True)
    with world.stack.client(key=reader) as client:
        response = world.send(client, route)
    if route.writes:
        assert response.status_code == 403, (route, response.text)
        assert response.headers["content-type"] == PROBLEM
        assert response.json()["title"] == "Forbidden"
        assert "read-only" in response.json()["detail"]
        assert world.untouched()
    else:
        assert response.status_code == 200, (route, response.text)


def test_an_endpoint_for_every_account_is_for_keys_of_every_account(world: World) -> None:
    everyone = world.stack.ws.webhooks.create("http://127.0.0.1:9/all", ["scan"]).endpoint
    own_key = world.key("a-only-all", [APPID])
    with world.stack.client(key=own_key) as client:
        listed = client.get("/api/v1/webhooks").json()["items"]
        assert everyone.id not in {item["id"] for item in listed}
        assert world.webhook_id in {item["id"] for item in listed}
        assert client.get(f"/api/v1/webhooks/{everyone.id}").status_code == 404
        made = client.post(
            "/api/v1/webhooks", json={"url": "http://127.0.0.1:9/x", "events": ["scan"]}
        )
    assert made.status_code == 403, made.text
    with world.stack.client() as client:  # the full key sees it
        assert client.get(f"/api/v1/webhooks/{everyone.id}").status_code == 200


def test_a_read_only_key_is_forbidden_even_with_a_bad_body(world: World) -> None:
    reader = world.key("reader-all", None, read_only=True)
    with world.stack.client(key=reader) as client:
        response = client.patch(f"/api/v1/channels/{world.channel_id}", json={"name": 42})
    assert response.status_code == 403


def test_lists_and_the_default_account_are_the_keys_accounts(world: World) -> None:
    other_key = world.key("other-only", [OTHER])
    with world.stack.client(key=other_key) as client:
        accounts = client.get("/api/v1/accounts")
        channels = client.get("/api/v1/channels")  # no account: the key's only one
        made = client.post("/api/v1/channels", json={"name": f"Own poster {world.run}"})
    assert accounts.status_code == 200
    assert [a["appid"] for a in accounts.json()] == [OTHER]
    assert channels.status_code == 200
    assert all(c["account_id"] != world.stack.account.id for c in channels.json()["items"])
    assert made.status_code == 201
    assert made.json()["account_id"] != world.stack.account.id
    with world.stack.client() as client:  # a key of every account sees both
        assert {a["appid"] for a in client.get("/api/v1/accounts").json()} == {APPID, OTHER}


def test_a_key_of_several_accounts_must_say_which(world: World) -> None:
    both = world.key("both", [APPID, OTHER])
    with world.stack.client(key=both) as client:
        unnamed = client.get("/api/v1/channels")
        named = client.get("/api/v1/channels", params={"account": APPID, "limit": 1000})
    assert unnamed.status_code == 422
    assert named.status_code == 200
    assert world.name in [c["name"] for c in named.json()["items"]]


def test_keys_made_before_scopes_keep_every_account_read_write(world: World) -> None:
    # The stack's own key was made without a scope, as every key before scopes was.
    key = world.stack.ws.api_keys.authenticate(world.stack.api_key)
    assert key is not None
    assert key.scope == AccessScope(appids=None, read_only=False)
    with world.stack.client() as client:
        patched = client.patch(
            f"/api/v1/channels/{world.channel_id}", json={"name": f"Renamed {world.run}"}
        )
    assert patched.status_code == 200
    assert patched.json()["name"] == f"Renamed {world.run}"


def test_a_key_for_an_unknown_account_is_refused(world: World) -> None:
    with pytest.raises(NotFoundError, match="wxnosuchaccount"):
        world.stack.ws.api_keys.create(f"ghost-{world.run}", accounts=["wxnosuchaccount"])


def test_the_cli_creates_and_lists_scoped_keys(world: World, scope_db: str) -> None:
    runner = CliRunner(env={"WXQR_DATABASE_URL": scope_db})
    name = f"reporting-{world.run}"
    made = runner.invoke(
        app, ["apikey", "create", "--name", name, "--account", OTHER, "--read-only"]
    )
    assert made.exit_code == 0, made.output
    secret = re.search(r"wxqr_\S+", made.output)
    assert secret is not None
    key = world.stack.ws.api_keys.authenticate(secret.group(0))
    assert key is not None
    assert key.scope == AccessScope(appids=frozenset({OTHER}), read_only=True)
    listed = runner.invoke(app, ["apikey", "list", "--format", "json"])
    assert listed.exit_code == 0, listed.output
    rows = {row["name"]: row for row in json.loads(listed.output)}
    assert rows[name]["accounts"] == [OTHER]
    assert rows[name]["read_only"] is True
    assert any(row["accounts"] is None and not row["read_only"] for row in rows.values())
    table = runner.invoke(app, ["apikey", "list"])
    assert "read-only" in table.output
    unknown = runner.invoke(app, ["apikey", "create", "--name", "x", "--account", "wxnope"])
    assert unknown.exit_code != 0
    assert "wxnope" in unknown.output
    assert "Traceback" not in unknown.output
