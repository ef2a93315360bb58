"""The lock-out key: the user name and the client together, hashed, names folded."""

from __future__ import annotations

from wxqr.service.login_throttle import MemoryLoginThrottle, login_key


def test_the_key_joins_the_name_and_the_client() -> None:
    key = login_key("Li.Lei", "10.0.0.1")
    assert key == login_key(" li.lei ", "10.0.0.1")  # one user, however it is typed
    assert key != login_key("li.lei", "10.0.0.2")
    assert key != login_key("han.mei", "10.0.0.1")
    assert login_key("a", "b\x00c") != login_key("a\x00b", "c")  # no ambiguous joins
    assert len(key) == 64  # fits the store's client column, names no user
    assert "lei" not in key


def test_one_persons_typos_do_not_lock_out_the_office() -> None:
    throttle = MemoryLoginThrottle(max_failures=2, window_seconds=60, clock=lambda: 100.0)
    office = "203.0.113.7"
    for _ in range(2):
        assert throttle.attempt(login_key("typo", office)) is None
    assert throttle.attempt(login_key("typo", office)) is not None
    assert throttle.attempt(login_key("colleague", office)) is None
    assert throttle.attempt(login_key("typo", "198.51.100.1")) is None
