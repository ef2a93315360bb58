"""The login throttle's client address under ``wxqr serve``'s own uvicorn options: a
forwarded header counts only from the proxies of WXQR_TRUSTED_PROXIES (issue 14 item 7).

uvicorn trusts X-Forwarded-For from 127.0.0.1 unless told otherwise; before the fix a
client on the same host (or behind a proxy there) rotated the header for unlimited guesses.
"""

from __future__ import annotations

import dataclasses
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import uvicorn
from sqlalchemy import Engine

from tests.support.stack import APPID, SECRET, TOKEN, make_settings
from wxqr.cli.serve import uvicorn_options
from wxqr.emulator.testing import RunningEmulator
from wxqr.runtime import Runtime
from wxqr.service.accounts import add_account, get_account
from wxqr.settings import Settings
from wxqr.web.app import create_app

PASSWORD = "correct horse battery"


@contextmanager
def served_like_wxqr_serve(settings: Settings, engine: Engine) -> Iterator[str]:
    """The app on a loopback port, with the uvicorn options ``wxqr serve`` uses."""
    if get_account(engine, APPID) is None:
        add_account(engine, appid=APPID, token=TOKEN, app_secret=SECRET)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    with Runtime.open(settings, engine=engine, serve=True) as runtime:
        runtime.workspace.admin.set_password(PASSWORD)
        options = uvicorn_options(settings, host="127.0.0.1", port=port, log_level="warning")
        server = uvicorn.Server(uvicorn.Config(create_app(runtime), lifespan="on", **options))
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        deadline = time.monotonic() + 15
        while not server.started:
            assert thread.is_alive()
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.01)
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            server.should_exit = True
            thread.join(timeout=15)
            sock.close()


def _guess(base_url: str, forwarded_for: str) -> int:
    with httpx.Client(base_url=base_url, timeout=30) as client:
        response = client.post(
            "/dashboard/login",
            data={"password": "a wrong guess"},
            headers={"X-Forwarded-For": forwarded_for},
        )
    return response.status_code


def test_a_forwarded_header_from_an_untrusted_address_does_not_change_the_client(
    engine: Engine, database_url: str, emulator: RunningEmulator
) -> None:
    settings = make_settings(database_url, emulator)  # WXQR_TRUSTED_PROXIES unset
    assert settings.trusted_proxies == ()
    with served_like_wxqr_serve(settings, engine) as base_url:
        statuses = [_guess(base_url, f"203.0.113.{n}") for n in range(10)]
    # All from 127.0.0.1, whatever the header says: five tries, then locked out.
    assert statuses == [401] * 5 + [429] * 5


def test_a_trusted_proxy_forwards_the_client_address(
    engine: Engine, database_url: str, emulator: RunningEmulator
) -> None:
    settings = dataclasses.replace(
        make_settings(database_url, emulator), trusted_proxies=("127.0.0.1",)
    )
    with served_like_wxqr_serve(settings, engine) as base_url:
        others = [_guess(base_url, f"203.0.113.{n}") for n in range(7)]
        one = [_guess(base_url, "198.51.100.7") for _ in range(6)]
    assert others == [401] * 7  # seven different clients, one guess each
    assert one == [401] * 5 + [429]  # one client behind the proxy: locked out
