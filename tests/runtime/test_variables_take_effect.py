"""Every variable documented in README.md and docs/operations.md changes what the runtime
builds: one case per variable, each built from an environment mapping the way
``wxqr serve`` builds it (``Settings.from_env`` then ``Runtime.open``).

A test at the end checks the table covers every variable the docs name.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from wxqr.cli.serve import uvicorn_options
from wxqr.protocol import EncryptMode
from wxqr.runtime import Runtime
from wxqr.service.ingest._writer import GroupCommitWriter
from wxqr.service.secrets_box import new_secret_key
from wxqr.service.webhooks import DeliveryProcess
from wxqr.settings import Settings
from wxqr.web.http_guard import HttpLimits
from wxqr.wechat import TokenSource

ROOT = Path(__file__).resolve().parents[2]
APPID = "wx2222222222222222"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
SECRET_KEY = new_secret_key()
ENV_ACCOUNT = {"WXQR_APPID": APPID, "WXQR_TOKEN": "tok-env", "WXQR_APP_SECRET": "sec-env"}


@contextmanager
def runtime_of(env: dict[str, str], sqlite_url: str) -> Iterator[Runtime]:
    settings = Settings.from_env({"WXQR_DATABASE_URL": sqlite_url, **env})
    with Runtime.open(settings, serve=True) as runtime:
        yield runtime


def _writer_synchronous(runtime: Runtime) -> int:
    assert runtime.ingest is not None
    assert isinstance(runtime.ingest.writer, GroupCommitWriter)
    assert runtime.writer_engine is not None
    with runtime.writer_engine.connect() as conn:
        return int(conn.execute(text("PRAGMA synchronous")).scalar_one())


def _listens(runtime: Runtime) -> tuple[str, int]:
    """Where ``wxqr serve`` (without --host/--port) would listen."""
    options = uvicorn_options(runtime.settings, host=None, port=None, log_level="info")
    return options["host"], options["port"]


_SERVED = {"WXQR_INGEST_WRITER": "thread", "WXQR_WORKER": "0"}


def _served_status(runtime: Runtime, path: str, headers: dict[str, str]) -> int:
    from wxqr.web.app import create_app

    with TestClient(create_app(runtime)) as client:
        return client.get(path, headers=headers).status_code


def _formatted(runtime: Runtime) -> str:
    from wxqr.logs import LogFormatter

    record = logging.LogRecord("wxqr.test", logging.INFO, __file__, 1, "hello", None, None)
    return LogFormatter(runtime.settings.log_format).format(record)


def _access_lines(runtime: Runtime) -> int:
    from wxqr.web.app import create_app

    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    access = logging.getLogger("wxqr.access")
    level = access.level
    access.addHandler(handler)
    access.setLevel(logging.INFO)
    try:
        with TestClient(create_app(runtime)) as client:
            client.get("/healthz")
    finally:
        access.removeHandler(handler)
        access.setLevel(level)
    return len(records)


@dataclass(frozen=True)
class Case:
    variables: tuple[str, ...]
    env: dict[str, str]
    check: Callable[[Runtime], object]


def _http(runtime: Runtime) -> tuple[object, float]:
    """(the connection limits, keep-alive seconds) ``wxqr serve`` would give uvicorn."""
    options = uvicorn_options(runtime.settings, host=None, port=None, log_level="info")
    return options["http"].limits, options["timeout_keep_alive"]


def _writer_db_timeouts(runtime: Runtime) -> tuple[float, float]:
    """(connect, statement) timeouts the writer process builds its engine with."""
    assert runtime.ingest is not None
    config = runtime.ingest.writer._config  # type: ignore[attr-defined]
    return config.connect_timeout_seconds, config.statement_timeout_seconds


def _client_config(runtime: Runtime):  # type: ignore[no-untyped-def]
    return runtime.clients.config(runtime.workspace.account(APPID))


CASES = [
    Case(
        ("WXQR_DATABASE_URL",),
        {},
        lambda rt: (
            rt.engine.url.database == rt.settings.database_url.removeprefix("sqlite:///")
            and rt.engine.url.database.endswith("wxqr.sqlite3")
        ),  # type: ignore[union-attr]
    ),
    Case(
        ("WXQR_HOST", "WXQR_PORT"),
        {"WXQR_HOST": "192.0.2.7", "WXQR_PORT": "9123"},
        lambda rt: _listens(rt) == ("192.0.2.7", 9123),
    ),
    Case(
        ("WXQR_APPID", "WXQR_TOKEN", "WXQR_APP_SECRET", "WXQR_AES_KEY", "WXQR_ENCRYPT_MODE"),
        {**ENV_ACCOUNT, "WXQR_AES_KEY": AES_KEY, "WXQR_ENCRYPT_MODE": "safe"},
        lambda rt: (
            (a := rt.workspace.account(APPID)).token == "tok-env"
            and a.app_secret == "sec-env"
            and a.aes_key == AES_KEY
            and a.encrypt_mode is EncryptMode.SAFE
        ),
    ),
    Case(
        ("WXQR_PUSH_DEADLINE_SECONDS",),
        {"WXQR_PUSH_DEADLINE_SECONDS": "0.5"},
        lambda rt: rt.ingest is not None and rt.ingest.options.deadline_seconds == 0.5,
    ),
    Case(
        ("WXQR_BATCH_MAX",),
        {"WXQR_BATCH_MAX": "7"},
        lambda rt: rt.ingest is not None and rt.ingest.options.batch_max == 7,
    ),
    Case(
        ("WXQR_CACHE_TTL_SECONDS",),
        {"WXQR_CACHE_TTL_SECONDS": "0.25"},
        lambda rt: rt.ingest is not None and rt.ingest.options.cache_ttl_seconds == 0.25,
    ),
    Case(
        ("WXQR_STORE_RAW_XML",),
        {"WXQR_STORE_RAW_XML": "0"},
        lambda rt: rt.ingest is not None and rt.ingest.options.store_raw_xml is False,
    ),
    Case(
        ("WXQR_FETCH_USER_INFO",),
        {"WXQR_FETCH_USER_INFO": "no"},
        lambda rt: rt.ingest is not None and rt.ingest.options.fetch_user_info is False,
    ),
    Case(
        ("WXQR_INGEST_WRITER",),
        {"WXQR_INGEST_WRITER": "thread"},
        lambda rt: rt.ingest is not None and isinstance(rt.ingest.writer, GroupCommitWriter),
    ),
    Case(
        ("WXQR_SQLITE_SYNCHRONOUS",),
        {"WXQR_INGEST_WRITER": "thread", "WXQR_SQLITE_SYNCHRONOUS": "NORMAL"},
        lambda rt: _writer_synchronous(rt) == 1,  # FULL would be 2
    ),
    Case(
        ("WXQR_WORKER",),
        {"WXQR_WORKER": "0"},
        lambda rt: rt.worker is None,
    ),
    Case(
        ("WXQR_WORKER_POLL_SECONDS",),
        {"WXQR_WORKER_POLL_SECONDS": "0.2"},
        lambda rt: rt.worker is not None and rt.worker.options.poll_seconds == 0.2,
    ),
    Case(
        ("WXQR_JOB_MAX_ATTEMPTS",),
        {"WXQR_JOB_MAX_ATTEMPTS": "3"},
        lambda rt: rt.worker is not None and rt.worker.options.max_attempts == 3,
    ),
    Case(
        ("WXQR_WECHAT_API_BASE", "WXQR_WECHAT_MP_BASE"),
        {
            **ENV_ACCOUNT,
            "WXQR_WECHAT_API_BASE": "http://127.0.0.1:9/api/",
            "WXQR_WECHAT_MP_BASE": "http://127.0.0.1:9/mp",
        },
        lambda rt: (
            _client_config(rt).api_base == "http://127.0.0.1:9/api"
            and _client_config(rt).mp_base == "http://127.0.0.1:9/mp"
            and rt.workspace.clients.mp_base == "http://127.0.0.1:9/mp"
        ),
    ),
    Case(
        ("WXQR_WECHAT_TOKEN_SOURCE", "WXQR_WECHAT_TIMEOUT"),
        {**ENV_ACCOUNT, "WXQR_WECHAT_TOKEN_SOURCE": "classic", "WXQR_WECHAT_TIMEOUT": "3"},
        lambda rt: (
            _client_config(rt).token_source is TokenSource.CLASSIC
            and _client_config(rt).timeout == 3.0
        ),
    ),
    Case(
        ("WXQR_REDIS_URL",),
        {**ENV_ACCOUNT, "WXQR_REDIS_URL": "redis://127.0.0.1:1/0"},
        lambda rt: (
            rt.clients.token_cache_kind == "redis"
            and _client_config(rt).redis_url == "redis://127.0.0.1:1/0"
        ),
    ),
    Case(
        ("WXQR_SECRET_KEY",),
        {**ENV_ACCOUNT, "WXQR_SECRET_KEY": SECRET_KEY},
        lambda rt: (
            _stored_app_secret(rt).startswith("enc:v1:")
            and rt.workspace.account(APPID).app_secret == "sec-env"
        ),
    ),
    Case(
        ("WXQR_DB_CONNECT_TIMEOUT_SECONDS", "WXQR_DB_STATEMENT_TIMEOUT_SECONDS"),
        {"WXQR_DB_CONNECT_TIMEOUT_SECONDS": "2", "WXQR_DB_STATEMENT_TIMEOUT_SECONDS": "7"},
        lambda rt: _writer_db_timeouts(rt) == (2.0, 7.0),
    ),
    Case(
        (
            "WXQR_HTTP_MAX_CONNECTIONS",
            "WXQR_HTTP_HEADER_TIMEOUT_SECONDS",
            "WXQR_HTTP_BODY_TIMEOUT_SECONDS",
            "WXQR_HTTP_KEEPALIVE_SECONDS",
        ),
        {
            "WXQR_HTTP_MAX_CONNECTIONS": "100",
            "WXQR_HTTP_HEADER_TIMEOUT_SECONDS": "2",
            "WXQR_HTTP_BODY_TIMEOUT_SECONDS": "3",
            "WXQR_HTTP_KEEPALIVE_SECONDS": "4",
        },
        lambda rt: _http(rt) == (HttpLimits(100, 2.0, 3.0), 4.0),
    ),
    Case(  # ops: the served app's /metrics answers a remote scraper with the token
        ("WXQR_METRICS_TOKEN",),
        {**_SERVED, "WXQR_METRICS_TOKEN": "scrape-me"},
        lambda rt: _served_status(rt, "/metrics", {"Authorization": "Bearer scrape-me"}) == 200,
    ),
    Case(  # ops: the log format serve configures
        ("WXQR_LOG_FORMAT",),
        {"WXQR_LOG_FORMAT": "json"},
        lambda rt: _formatted(rt).startswith("{") and '"msg": "hello"' in _formatted(rt),
    ),
    Case(  # ops: one wxqr.access line per request
        ("WXQR_ACCESS_LOG",),
        {**_SERVED, "WXQR_ACCESS_LOG": "1"},
        lambda rt: _access_lines(rt) == 1,
    ),
    Case(
        ("WXQR_LOGIN_MAX_FAILURES", "WXQR_LOGIN_WINDOW_SECONDS"),
        {"WXQR_LOGIN_MAX_FAILURES": "2", "WXQR_LOGIN_WINDOW_SECONDS": "60"},
        lambda rt: _throttled_after(rt) == 2 and 0 < _retry_after(rt) <= 60,
    ),
    Case(
        ("WXQR_LOGIN_CONCURRENCY",),
        {"WXQR_LOGIN_CONCURRENCY": "5"},
        lambda rt: _password_checks_at_once(rt) == 5,
    ),
    Case(
        ("WXQR_TRUSTED_PROXIES",),
        {"WXQR_TRUSTED_PROXIES": "10.0.0.1,192.168.0.0/16"},
        lambda rt: _trusts_forwarded_from(rt) == ["10.0.0.1", "192.168.0.0/16"],
    ),
    Case(
        ("WXQR_WEBHOOK_ALLOW_HTTP",),
        {"WXQR_WEBHOOK_ALLOW_HTTP": "1"},
        lambda rt: rt.workspace.webhooks.policy.allow_http,
    ),
    Case(
        ("WXQR_WEBHOOK_ALLOW_PRIVATE",),
        {"WXQR_WEBHOOK_ALLOW_PRIVATE": "1"},
        lambda rt: rt.workspace.webhooks.policy.allow_private,
    ),
    Case(
        ("WXQR_WEBHOOK_RETENTION_DAYS",),
        {"WXQR_WEBHOOK_RETENTION_DAYS": "2", "WXQR_WORKER": "1"},
        lambda rt: _webhook_retention_seconds(rt) == 2 * 86400,
    ),
    Case(  # scan-sessions:
        ("WXQR_SCAN_SESSIONS_PER_MINUTE",),
        {"WXQR_SCAN_SESSIONS_PER_MINUTE": "7"},
        lambda rt: rt.workspace.scan_sessions.per_minute == 7,
    ),
    Case(  # scan-sessions:
        ("WXQR_SCAN_SESSION_RETENTION_DAYS",),
        {"WXQR_SCAN_SESSION_RETENTION_DAYS": "2"},
        lambda rt: rt.workspace.scan_sessions.retention_days == 2.0,
    ),
    Case(  # posters:
        ("WXQR_POSTER_FONT",),
        {"WXQR_POSTER_FONT": "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc"},
        lambda rt: rt.workspace.posters.font_path().name == "NotoSansCJK-Bold.ttc",
    ),
    Case(  # lifecycle:
        ("WXQR_RENEW_LEAD_SECONDS",),
        {"WXQR_RENEW_LEAD_SECONDS": "3600"},
        lambda rt: rt.workspace.lifecycle.default_lead_seconds == 3600,
    ),
    Case(  # lifecycle:
        ("WXQR_EXPIRING_NOTICE_SECONDS",),
        {"WXQR_EXPIRING_NOTICE_SECONDS": "7200"},
        lambda rt: rt.workspace.lifecycle.expiring_notice_seconds == 7200,
    ),
]


def _webhook_retention_seconds(runtime: Runtime) -> float:
    """The retention the serving runtime's delivery worker was given."""
    dispatcher = runtime.webhook_dispatcher
    assert dispatcher is not None
    assert isinstance(dispatcher, DeliveryProcess)
    return float(dispatcher._config.retention_seconds)


def _password_checks_at_once(runtime: Runtime) -> int:
    gate = runtime.workspace.login_gate
    admitted = 0
    while admitted < 50 and gate.try_enter():
        admitted += 1
    for _ in range(admitted):
        gate.leave()
    return admitted


def _trusts_forwarded_from(runtime: Runtime) -> object:
    """The proxies ``wxqr serve`` tells uvicorn to believe X-Forwarded-For from."""
    options = uvicorn_options(runtime.settings, host=None, port=None, log_level="info")
    return options["forwarded_allow_ips"]


def _stored_app_secret(runtime: Runtime) -> str:
    """The account's app secret as the database holds it."""
    with runtime.engine.connect() as conn:
        stored = conn.execute(text("SELECT app_secret FROM accounts")).scalar_one()
    return str(stored)


def _throttled_after(runtime: Runtime) -> int:
    """How many failed attempts a client gets before it is refused."""
    throttle = runtime.workspace.login_throttle
    for n in range(10):
        if throttle.attempt("10.0.0.1") is not None:
            return n
    return 10


def _retry_after(runtime: Runtime) -> float:
    throttle = runtime.workspace.login_throttle
    for _ in range(10):
        wait = throttle.attempt("10.0.0.2")
        if wait is not None:
            return wait
    return 0.0


@pytest.mark.parametrize("case", CASES, ids=lambda c: "+".join(c.variables))
def test_each_variable_changes_what_the_runtime_builds(case: Case, sqlite_url: str) -> None:
    with runtime_of(case.env, sqlite_url) as runtime:
        assert case.check(runtime)


@pytest.mark.parametrize("case", CASES[1:], ids=lambda c: "+".join(c.variables))
def test_without_the_variable_the_default_is_built(case: Case, sqlite_url: str) -> None:
    """The same check fails on the defaults: each case really tests its variable."""
    env = {k: v for k, v in case.env.items() if k not in case.variables}
    if set(case.variables) & set(ENV_ACCOUNT) - {"WXQR_APP_SECRET"}:
        with runtime_of(env, sqlite_url) as runtime:
            assert runtime.workspace.accounts() == []
        return
    with runtime_of(env, sqlite_url) as runtime:
        assert not case.check(runtime)


def _webhook_status(client: TestClient, body: bytes, timestamp: int) -> int:
    from wxqr.protocol import PushQuery, signature

    query = PushQuery(signature("tok-env", str(timestamp), "n-1"), str(timestamp), "n-1")
    return client.post(f"/wechat/{APPID}", params=query.to_params(), content=body).status_code


def _subscribe(timestamp: int, padding: int = 0) -> bytes:
    return (
        f"<xml><ToUserName>gh_x</ToUserName><FromUserName>o-1</FromUserName>"
        f"<CreateTime>{timestamp}</CreateTime><MsgType>event</MsgType>"
        f"<Event>subscribe</Event><EventKey>{'x' * padding}</EventKey></xml>"
    ).encode()


@pytest.mark.parametrize(
    ("variable", "value", "status_with", "status_without"),
    [
        ("WXQR_PUSH_MAX_AGE_SECONDS", "30", 403, 200),  # a push 60 s old
        ("WXQR_MAX_BODY_BYTES", "2048", 413, 200),  # a 4 KiB body
    ],
)
def test_webhook_limits_take_effect(
    sqlite_url: str, variable: str, value: str, status_with: int, status_without: int
) -> None:
    import time

    base = {**ENV_ACCOUNT, "WXQR_INGEST_WRITER": "thread", "WXQR_WORKER": "0"}
    for env, expected in (({**base, variable: value}, status_with), (base, status_without)):
        with runtime_of(env, sqlite_url) as runtime:
            from wxqr.web.app import create_app

            with TestClient(create_app(runtime)) as client:
                now = int(time.time())
                if variable == "WXQR_PUSH_MAX_AGE_SECONDS":
                    status = _webhook_status(client, _subscribe(now - 60), now - 60)
                else:
                    status = _webhook_status(client, _subscribe(now, padding=4096), now)
                assert status == expected, env


@pytest.mark.parametrize(
    ("variable", "path", "content_type"),
    [
        ("WXQR_API_MAX_BODY_BYTES", "/api/v1/channels", "application/json"),
        ("WXQR_IMPORT_MAX_BODY_BYTES", "/api/v1/channels/bulk", "text/csv"),
    ],
)
def test_request_body_limits_take_effect(
    sqlite_url: str, variable: str, path: str, content_type: str
) -> None:
    from wxqr.web.app import create_app

    body = b"x" * 4096  # over the 2048 set below, far under either default
    base = {**ENV_ACCOUNT, "WXQR_INGEST_WRITER": "thread", "WXQR_WORKER": "0"}
    for env, refused in (({**base, variable: "2048"}, True), (base, False)):
        with runtime_of(env, sqlite_url) as runtime, TestClient(create_app(runtime)) as client:
            key = runtime.workspace.api_keys.create(f"k-{refused}").secret
            headers = {"X-API-Key": key, "Content-Type": content_type}
            status = client.post(path, content=body, headers=headers).status_code
            assert (status == 413) is refused, (env, status)


def test_gil_switch_interval_is_set_while_serving(sqlite_url: str) -> None:
    from wxqr.web.app import create_app

    before = sys.getswitchinterval()
    env = {"WXQR_INGEST_WRITER": "thread", "WXQR_WORKER": "0", "WXQR_GIL_SWITCH_INTERVAL": "0.002"}
    try:
        with runtime_of(env, sqlite_url) as runtime, TestClient(create_app(runtime)):
            assert sys.getswitchinterval() == pytest.approx(0.002)
    finally:
        sys.setswitchinterval(before)


def test_the_table_covers_every_documented_variable() -> None:
    documented: set[str] = set()
    for doc in (ROOT / "README.md", ROOT / "docs" / "operations.md"):
        documented |= set(re.findall(r"`(WXQR_[A-Z_]+)`", doc.read_text(encoding="utf-8")))
    documented -= {"WXQR_TEST_POSTGRES_URL", "WXQR_TEST_REDIS_URL", "WXQR_SKIP_FRONTEND"}
    covered = {v for case in CASES for v in case.variables}
    covered |= {"WXQR_PUSH_MAX_AGE_SECONDS", "WXQR_MAX_BODY_BYTES", "WXQR_GIL_SWITCH_INTERVAL"}
    covered |= {"WXQR_API_MAX_BODY_BYTES", "WXQR_IMPORT_MAX_BODY_BYTES"}
    assert documented - covered == set()
    assert "WXQR_WECHAT_TIMEOUT" in documented  # operations.md lists every variable
