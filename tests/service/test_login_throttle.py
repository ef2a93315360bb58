"""LoginThrottle: dashboard login attempts per client within a sliding window."""

from __future__ import annotations

import pytest

from wxqr.service.login_throttle import LoginThrottle
from wxqr.settings import Settings, SettingsError


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_client_is_refused_after_its_attempts_until_the_oldest_leaves_the_window() -> None:
    clock = Clock()
    throttle = LoginThrottle(max_failures=3, window_seconds=60, clock=clock)
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
    throttle = LoginThrottle(max_failures=2, window_seconds=60, clock=Clock())
    assert throttle.attempt("a") is None
    throttle.succeeded("a")
    assert throttle.attempt("a") is None
    assert throttle.attempt("a") is None
    assert throttle.attempt("a") is not None


def test_memory_is_bounded_by_forgetting_the_least_recent_clients() -> None:
    throttle = LoginThrottle(max_failures=1, window_seconds=60, max_clients=2, clock=Clock())
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
        LoginThrottle(**kwargs)  # type: ignore[arg-type]


def test_the_limits_come_from_the_environment() -> None:
    settings = Settings.from_env(
        {"WXQR_LOGIN_MAX_FAILURES": "3", "WXQR_LOGIN_WINDOW_SECONDS": "120"}
    )
    assert (settings.login_max_failures, settings.login_window_seconds) == (3, 120.0)
    assert Settings.from_env({}).login_max_failures == 5
    with pytest.raises(SettingsError, match="WXQR_LOGIN_MAX_FAILURES"):
        Settings.from_env({"WXQR_LOGIN_MAX_FAILURES": "0"})
