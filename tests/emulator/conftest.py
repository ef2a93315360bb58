"""Fixtures of the emulator's tests: a running emulator and a token for it."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from wxqr.emulator.testing import EmulatorAccount, RunningEmulator, running_emulator

APPID = "wx0123456789abcdef"
SECRET = "s3cret-0123456789"
TOKEN = "tok-for-pushes"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
ORIGINAL_ID = "gh_0123456789ab"

ACCOUNT = EmulatorAccount(
    appid=APPID, secret=SECRET, token=TOKEN, aes_key=AES_KEY, original_id=ORIGINAL_ID
)


@pytest.fixture(scope="module")
def shared_emulator() -> Iterator[RunningEmulator]:
    with running_emulator(accounts=[ACCOUNT], push_timeout=1.0) as emu:
        yield emu


@pytest.fixture
def emu(shared_emulator: RunningEmulator) -> RunningEmulator:
    """A running emulator, reset before each test (one server per test module)."""
    shared_emulator.reset()
    shared_emulator.set_push_url(APPID, None)
    return shared_emulator


@pytest.fixture
def http(emu: RunningEmulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=emu.base_url, trust_env=False, timeout=30) as client:
        yield client


def get_token(http: httpx.Client, appid: str = APPID, secret: str = SECRET) -> str:
    params = {"grant_type": "client_credential", "appid": appid, "secret": secret}
    data = http.get("/cgi-bin/token", params=params).json()
    return str(data["access_token"])


@pytest.fixture
def token(http: httpx.Client) -> str:
    return get_token(http)
