"""Fixtures shared by the whole suite: the external services CI provides, and the plugins
of tests/support (databases, the emulator and a running wxqr stack)."""

from __future__ import annotations

import os

import pytest

pytest_plugins = ["tests.support.databases", "tests.support.fixtures"]


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """SQLAlchemy URL of the test PostgreSQL server; skips when WXQR_TEST_POSTGRES_URL is unset."""
    url = os.environ.get("WXQR_TEST_POSTGRES_URL", "")
    if not url:
        pytest.skip("WXQR_TEST_POSTGRES_URL is not set")
    if url.startswith(("postgres://", "postgresql://")):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


@pytest.fixture(scope="session")
def redis_url() -> str:
    """URL of the test Redis server; skips when WXQR_TEST_REDIS_URL is unset."""
    url = os.environ.get("WXQR_TEST_REDIS_URL", "")
    if not url:
        pytest.skip("WXQR_TEST_REDIS_URL is not set")
    return url
