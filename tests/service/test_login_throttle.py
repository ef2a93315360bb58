"""Login throttles: dashboard login attempts per client, in memory (one process), in the
store and in Redis (shared by every process), and the cap on concurrent password checks."""

from __future__ import annotations

import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import Engine, delete

from wxqr.service.login_throttle import (
    LoginThrottle,
    MemoryLoginThrottle,
    PasswordCheckGate,
    RedisLoginThrottle,
    StoreLoginThrottle,
    login_throttle_for,
)
from wxqr.settings import Settings, SettingsError
from wxqr.store.db import make_engine
from wxqr.store.tables import login_attempts


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_client_is_refused_after_its_attempts_until_the_oldest_leaves_the_window() -> None:
    clock = Clock()
    throttle = MemoryLoginThrottle(max_failures=3, window_seconds=60, clock=clock)
    for step in range(3):
        assert throttle.attempt("10.0.0.1") is None  # counted: nothing said it succeeded
        clock.now += 10 if step < 2 else 0
    # Attempts at 1000, 1010, 1020: refused until 1060, when the first leaves the window.
    assert throttle.attempt("10.0.0.1") == pytest.approx(40)
    assert throttle.attempt("10.0.0.1") == pytest.approx(40)  # a refusal is not counted
    assert throttle.attempt("10.0.0.2") is None  # others are not affected
    clock.now = 1059.5
    assert throttle.attempt("10.0.0.1") == pytest.approx(0.5)
    clock.now = 1060.0
    assert throttle.attempt("10.0.0.1") is None  # 1010, 1020, 1060: three again
    assert throttle.attempt("10.0.0.1") == pytest.approx(10)


def test_a_success_clears_the_clients_attempts() -> None:
    throttle = MemoryLoginThrottle(max_failures=2, window_seconds=60, clock=Clock())
    assert throttle.attempt("a") is None
    throttle.succeeded("a")
    assert throttle.attempt("a") is None
    assert throttle.attempt("a") is None
    assert throttle.attempt("a") is not None


def test_memory_is_bounded_by_forgetting_the_least_recent_clients() -> None:
    throttle = MemoryLoginThrottle(max_failures=1, window_seconds=60, max_clients=2, clock=Clock())
    throttle.attempt("old")
    throttle.attempt("middle")
    throttle.succeeded("old")
    throttle.attempt("old")  # "old" tried again: now "middle" is the least recent
    throttle.attempt("new")
    assert throttle.attempt("middle") is None  # forgotten, so allowed (and counted)
    assert throttle.attempt("new") is not None


@pytest.mark.parametrize("kwargs", [{"max_failures": 0}, {"window_seconds": 0}, {"max_clients": 0}])
def test_limits_must_be_positive(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="must be positive"):
        MemoryLoginThrottle(**kwargs)  # type: ignore[arg-type]


def test_the_limits_come_from_the_environment() -> None:
    settings = Settings.from_env(
        {"WXQR_LOGIN_MAX_FAILURES": "3", "WXQR_LOGIN_WINDOW_SECONDS": "120"}
    )
    assert (settings.login_max_failures, settings.login_window_seconds) == (3, 120.0)
    assert Settings.from_env({}).login_max_failures == 5
    with pytest.raises(SettingsError, match="WXQR_LOGIN_MAX_FAILURES"):
        Settings.from_env({"WXQR_LOGIN_MAX_FAILURES": "0"})


# -- shared throttles (store: SQLite and PostgreSQL; Redis) -----------------------------------

Make = Callable[..., LoginThrottle]


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("redis", marks=pytest.mark.redis),
    ]
)
def make_shared(request: pytest.FixtureRequest) -> Iterator[Make]:
    """Makes throttles that share their counts, as the processes of one install do."""
    if request.param != "redis":
        if request.param == "postgres":  # the session's migrated PostgreSQL database
            url: str = request.getfixturevalue("pg_session_url")
        else:  # a copy of the migrated SQLite template
            template: Path = request.getfixturevalue("sqlite_template")
            path = request.getfixturevalue("tmp_path") / "throttle.sqlite3"
            shutil.copyfile(template, path)
            url = f"sqlite:///{path}"
        engine = make_engine(url)
        with engine.begin() as conn:
            conn.execute(delete(login_attempts))

        def make_store(**kwargs: object) -> LoginThrottle:
            return StoreLoginThrottle(engine, **kwargs)  # type: ignore[arg-type]

        yield make_store
        engine.dispose()
        return
    redis: str = request.getfixturevalue("redis_url")
    made: list[RedisLoginThrottle] = []

    def make_redis(**kwargs: object) -> LoginThrottle:
        kwargs.pop("clock", None)  # Redis keeps time itself
        throttle = RedisLoginThrottle.from_url(redis, **kwargs)  # type: ignore[arg-type]
        made.append(throttle)
        return throttle

    yield make_redis


def _client() -> str:
    return f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.{uuid.uuid4().hex[:4]}"


def test_a_shared_throttle_refuses_after_the_allowance_and_forgets_on_success(
    make_shared: Make,
) -> None:
    throttle = make_shared(max_failures=3, window_seconds=60)
    client, other = _client(), _client()
    assert [throttle.attempt(client) for _ in range(3)] == [None, None, None]
    wait = throttle.attempt(client)
    assert wait is not None
    assert 0 < wait <= 60
    assert throttle.attempt(other) is None  # others are not affected
    throttle.succeeded(client)
    assert throttle.attempt(client) is None


def test_every_process_sees_the_same_counts(make_shared: Make) -> None:
    first = make_shared(max_failures=4, window_seconds=60)
    second = make_shared(max_failures=4, window_seconds=60)
    client = _client()
    assert first.attempt(client) is None
    assert second.attempt(client) is None
    assert first.attempt(client) is None
    assert second.attempt(client) is None
    assert first.attempt(client) is not None
    assert second.attempt(client) is not None


def test_concurrent_attempts_get_exactly_the_allowance(make_shared: Make) -> None:
    throttle = make_shared(max_failures=5, window_seconds=60)
    client = _client()
    with ThreadPoolExecutor(max_workers=12) as pool:
        results = list(pool.map(lambda _: throttle.attempt(client), range(30)))
    assert results.count(None) == 5


def test_the_store_throttle_opens_again_when_the_window_ends(engine: Engine) -> None:
    clock = Clock()
    throttle = StoreLoginThrottle(engine, max_failures=2, window_seconds=60, clock=clock)
    client = _client()
    assert throttle.attempt(client) is None
    clock.now += 10
    assert throttle.attempt(client) is None
    assert throttle.attempt(client) == pytest.approx(50)  # the window started at 1000
    clock.now = 1060.0
    assert throttle.attempt(client) is None  # a new window
    assert throttle.attempt(client) is None
    assert throttle.attempt(client) == pytest.approx(60)


@pytest.mark.redis
def test_the_redis_throttle_opens_again_when_the_window_ends(redis_url: str) -> None:
    throttle = RedisLoginThrottle.from_url(redis_url, max_failures=1, window_seconds=0.3)
    client = _client()
    assert throttle.attempt(client) is None
    assert throttle.attempt(client) is not None
    time.sleep(0.4)
    assert throttle.attempt(client) is None


def test_an_install_shares_its_throttle_through_redis_or_else_the_store(
    engine: Engine,
) -> None:
    assert isinstance(login_throttle_for(Settings(), engine), StoreLoginThrottle)
    with_redis = Settings(redis_url="redis://127.0.0.1:1/0")
    assert isinstance(login_throttle_for(with_redis, engine), RedisLoginThrottle)


def test_an_unreachable_redis_is_a_clear_service_error() -> None:
    from wxqr.service.errors import UnavailableError

    throttle = RedisLoginThrottle.from_url("redis://127.0.0.1:1/0")
    with pytest.raises(UnavailableError, match="Redis"):
        throttle.attempt("10.0.0.1")


def test_the_gate_admits_its_limit_and_refuses_at_once_beyond_it() -> None:
    gate = PasswordCheckGate(2)
    assert gate.try_enter()
    assert gate.try_enter()
    assert not gate.try_enter()
    gate.leave()
    assert gate.try_enter()
    with pytest.raises(ValueError, match="positive"):
        PasswordCheckGate(0)


def test_trusted_proxies_and_the_check_cap_come_from_the_environment() -> None:
    assert Settings.from_env({}).trusted_proxies == ()
    assert Settings.from_env({}).login_concurrency == 2
    settings = Settings.from_env(
        {"WXQR_TRUSTED_PROXIES": " 10.0.0.1, 192.168.0.0/16 ,::1", "WXQR_LOGIN_CONCURRENCY": "1"}
    )
    assert settings.trusted_proxies == ("10.0.0.1", "192.168.0.0/16", "::1")
    assert settings.login_concurrency == 1
    assert Settings.from_env({"WXQR_TRUSTED_PROXIES": "*"}).trusted_proxies == ("*",)
    with pytest.raises(SettingsError, match="WXQR_TRUSTED_PROXIES"):
        Settings.from_env({"WXQR_TRUSTED_PROXIES": "proxy.example.com"})
    with pytest.raises(SettingsError, match="WXQR_LOGIN_CONCURRENCY"):
        Settings.from_env({"WXQR_LOGIN_CONCURRENCY": "0"})
