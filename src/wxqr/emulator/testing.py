"""Run an emulator from test code and drive its simulated users.

::

    from wxqr.emulator.testing import EmulatorAccount, running_emulator

    acct = EmulatorAccount(appid="wx0123456789abcdef", secret="s3cret", token="tok")
    with running_emulator(accounts=[acct], token_expires_in=60) as emu:
        client = SomeClient(api_base=emu.base_url, mp_base=emu.base_url)
        ticket = client.create_qrcode(...)
        result = emu.scan(openid="o1", ticket=ticket)

The emulator is a real uvicorn server on a free loopback port in a background thread,
so any HTTP client in any process can reach it. Every handle method goes through the
control API over HTTP. For an in-process app, use :func:`create_emulator_app` with
``httpx.ASGITransport``.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.types import ASGIApp

from wxqr.protocol import AccountKeys, EncryptMode

from .app import create_emulator_app
from .config import (
    DEFAULT_APPID,
    DEFAULT_SECRET,
    DEFAULT_TOKEN,
    AccountConfig,
    EmulatorConfig,
    FaultConfig,
)
from .results import PushRecord, ScanResult

__all__ = [
    "EmulatorAccount",
    "FollowerInfo",
    "RunningEmulator",
    "create_emulator_app",
    "running_emulator",
    "serve_app",
]


@dataclass(frozen=True)
class EmulatorAccount:
    """An account for :func:`running_emulator`; every field has a usable default."""

    appid: str = DEFAULT_APPID
    secret: str = field(default=DEFAULT_SECRET, repr=False)
    token: str = field(default=DEFAULT_TOKEN, repr=False)
    aes_key: str | None = field(default=None, repr=False)
    mode: EncryptMode | str = EncryptMode.PLAIN
    push_url: str | None = None
    original_id: str = ""

    def to_config(self) -> AccountConfig:
        return AccountConfig(
            appid=self.appid,
            secret=self.secret,
            token=self.token,
            aes_key=self.aes_key,
            mode=EncryptMode(self.mode),
            push_url=self.push_url,
            original_id=self.original_id,
        )

    @property
    def keys(self) -> AccountKeys:
        """What the account's server needs to verify and open this account's pushes."""
        return self.to_config().keys


@dataclass(frozen=True, slots=True)
class FollowerInfo:
    openid: str
    subscribed: bool
    subscribe_time: int
    subscribe_scene: str
    qr_scene: int
    qr_scene_str: str
    unsubscribe_time: int | None
    tagids: tuple[int, ...]


class RunningEmulator:
    """Handle on a running emulator (see :func:`running_emulator`)."""

    def __init__(self, base_url: str, app: Starlette, config: EmulatorConfig) -> None:
        self.base_url = base_url
        self.app = app
        self.config = config
        wait = config.push_timeout * config.push_tries * 2 + 30
        self._http = httpx.Client(base_url=base_url, timeout=wait, trust_env=False)

    def close(self) -> None:
        self._http.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._http.request(method, "/_emulator" + path, **kwargs)
        if response.status_code >= 400:
            raise ValueError(f"emulator: {response.json().get('error', response.text)}")
        return response.json()

    def _config_for_handle(self) -> None:  # keeps the HTTP timeout in step with pushes
        settings = self._call("GET", "/config")
        wait = float(settings["push_timeout"]) * int(settings["push_tries"]) * 2 + 30
        self._http.timeout = httpx.Timeout(wait)

    # simulated users ---------------------------------------------------------------
    def scan(self, openid: str, *, ticket: str | None = None, url: str | None = None) -> ScanResult:
        """A user scans a code, given by its ticket or by its url."""
        body = {"openid": openid, "ticket": ticket, "url": url}
        return ScanResult.from_json(self._call("POST", "/scan", json=body))

    def follow(
        self, openid: str, *, appid: str | None = None, subscribe_scene: str | None = None
    ) -> ScanResult:
        body = {"openid": openid, "appid": appid, "subscribe_scene": subscribe_scene}
        return ScanResult.from_json(self._call("POST", "/follow", json=body))

    def unsubscribe(self, openid: str, *, appid: str | None = None) -> ScanResult:
        body = {"openid": openid, "appid": appid}
        return ScanResult.from_json(self._call("POST", "/unsubscribe", json=body))

    def message(self, openid: str, content: str, *, appid: str | None = None) -> ScanResult:
        body = {"openid": openid, "content": content, "appid": appid}
        return ScanResult.from_json(self._call("POST", "/message", json=body))

    # observation -------------------------------------------------------------------
    def calls(self, path: str | None = None) -> int:
        """How many times ``path`` was called (every WeChat API path when None)."""
        if path is None:
            return sum(self.call_counts().values())
        return int(self._call("GET", "/calls", params={"path": path})["count"])

    def call_counts(self) -> dict[str, int]:
        return {k: int(v) for k, v in self._call("GET", "/calls")["calls"].items()}

    def followers(
        self, appid: str | None = None, *, include_former: bool = False
    ) -> list[FollowerInfo]:
        params = {"all": "1" if include_former else "0"}
        if appid is not None:
            params["appid"] = appid
        items = self._call("GET", "/followers", params=params)["followers"]
        return [
            FollowerInfo(
                openid=u["openid"],
                subscribed=u["subscribed"],
                subscribe_time=u["subscribe_time"],
                subscribe_scene=u["subscribe_scene"],
                qr_scene=u["qr_scene"],
                qr_scene_str=u["qr_scene_str"],
                unsubscribe_time=u["unsubscribe_time"],
                tagids=tuple(u["tagids"]),
            )
            for u in items
        ]

    def pushes(self, appid: str | None = None, openid: str | None = None) -> list[PushRecord]:
        params = {k: v for k, v in (("appid", appid), ("openid", openid)) if v is not None}
        items = self._call("GET", "/pushes", params=params)["pushes"]
        return [PushRecord.from_json(p) for p in items]

    def now(self) -> float:
        return float(self._call("GET", "/clock")["now"])

    # knobs -------------------------------------------------------------------------
    def advance(self, seconds: float) -> float:
        """Move the emulator's clock ``seconds`` forward; return its new time."""
        return float(self._call("POST", "/clock", json={"advance": seconds})["now"])

    def set_clock(self, unix_time: float) -> float:
        return float(self._call("POST", "/clock", json={"set": unix_time})["now"])

    def set_faults(
        self,
        busy_ratio: float = 0.0,
        latency: float = 0.0,
        drop_ratio: float = 0.0,
        *,
        paths: Sequence[str] = (),
        seed: int | None = None,
    ) -> None:
        body = {
            "busy_ratio": busy_ratio,
            "latency": latency,
            "drop_ratio": drop_ratio,
            "paths": list(paths),
            "seed": seed,
        }
        self._call("POST", "/faults", json=body)

    def set_push_url(self, appid: str | None, url: str | None) -> None:
        """Where the account's pushes go (None: nowhere)."""
        self.update_account(appid, push_url=url)

    def update_account(self, appid: str | None, **fields: Any) -> None:
        """Change an account: push_url, mode, aes_key, token, secret, original_id."""
        target = appid or self._only_appid()
        if isinstance(fields.get("mode"), EncryptMode):
            fields["mode"] = fields["mode"].value
        self._call("POST", f"/accounts/{target}", json=fields)

    def configure(self, **settings: Any) -> dict[str, Any]:
        """Change settings (token_expires_in, token_overlap, permanent_limit,
        daily_quota, push_timeout, push_tries…); return them all."""
        result: dict[str, Any] = self._call("POST", "/config", json=settings)
        self._config_for_handle()
        return result

    def add_account(self, account: EmulatorAccount) -> None:
        config = account.to_config()
        body = {
            "appid": config.appid,
            "secret": config.secret,
            "token": config.token,
            "aes_key": config.aes_key,
            "mode": config.mode.value,
            "push_url": config.push_url,
            "original_id": config.original_id,
        }
        self._call("POST", "/accounts", json=body)

    def verify_push_url(self, appid: str | None = None) -> bool:
        """WeChat's URL-verification GET (echostr) against the account's push URL."""
        return bool(self._call("POST", "/verify", json={"appid": appid})["ok"])

    def reset(self) -> None:
        self._call("POST", "/reset")

    def _only_appid(self) -> str:
        accounts = self._call("GET", "/accounts")["accounts"]
        if len(accounts) != 1:
            raise ValueError("several accounts: say which appid")
        return str(accounts[0]["appid"])


def _serve(server: uvicorn.Server, sock: socket.socket) -> None:
    server.run(sockets=[sock])


@contextmanager
def serve_app(app: ASGIApp, *, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Serve any ASGI app with uvicorn in a background thread; yield its base URL.

    Handy for a push receiver in tests (e.g. wxqr's own webhook app)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    bound_port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on")
    )
    thread = threading.Thread(
        target=_serve, args=(server, sock), daemon=True, name=f"uvicorn-{bound_port}"
    )
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            sock.close()
            raise RuntimeError("the server did not start")
        time.sleep(0.01)
    try:
        yield f"http://{host}:{bound_port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()


@contextmanager
def running_emulator(
    accounts: Sequence[EmulatorAccount] | None = None,
    *,
    token_expires_in: int = 7200,
    token_overlap: int = 300,
    permanent_limit: int = 100_000,
    daily_quota: int | None = None,
    push_timeout: float = 5.0,
    push_tries: int = 3,
    faults: FaultConfig | None = None,
    state_path: str | None = None,
    start_time: float | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    push_ca_file: str | None = None,
) -> Iterator[RunningEmulator]:
    """Start an emulator on ``host``:``port`` (0: a free port) and stop it on exit.

    Without ``accounts`` it hosts one account: appid ``wxemulator00000001``, secret
    ``emulator-secret``, token ``emulator-token``, plain mode, no push URL."""
    config = EmulatorConfig(
        accounts=tuple(a.to_config() for a in (accounts or [EmulatorAccount()])),
        token_expires_in=token_expires_in,
        token_overlap=token_overlap,
        permanent_limit=permanent_limit,
        daily_quota=daily_quota,
        push_timeout=push_timeout,
        push_tries=push_tries,
        faults=faults or FaultConfig(),
        state_path=state_path,
        start_time=start_time,
        push_ca_file=push_ca_file,
    )
    app = create_emulator_app(config)
    with serve_app(app, host=host, port=port) as base_url:
        handle = RunningEmulator(base_url, app, config)
        try:
            yield handle
        finally:
            handle.close()
