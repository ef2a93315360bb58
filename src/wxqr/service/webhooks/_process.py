"""The delivery worker in a process of its own, at a lower CPU priority.

Deliveries cost CPU (signing, JSON, HTTP) that must never slow the webhook: in the
serving process they would take the GIL from its event loop, and on a saturated machine
any CPU they take is taken from ingest. ``wxqr serve`` therefore runs the
:class:`WebhookDispatcher` in a child process (``sys.executable -P -c …``) that lowers its
own priority (``nice`` +10): under load, ingest wins and deliveries catch up afterwards.
The configuration (with the database URL) goes over the child's stdin, never on a command
line; the child stops when that pipe closes, so a killed server leaves no worker behind.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

from wxqr.store.db import is_memory_database

from ._addresses import AddressPolicy
from ._dispatcher import DispatcherOptions, WebhookDispatcher

if TYPE_CHECKING:
    from wxqr.settings import Settings

__all__ = ["DeliveryProcess", "DeliveryProcessConfig", "DeliveryWorker", "delivery_worker", "main"]

log = logging.getLogger(__name__)

NICENESS = 10


@dataclass(frozen=True)
class DeliveryProcessConfig:
    database_url: str = field(repr=False)  # it may hold a password
    allow_http: bool = False
    allow_private: bool = False
    retention_seconds: float = 7 * 86400.0
    log_level: int = logging.WARNING


class DeliveryProcess:
    """Starts and stops the child (``start``/``stop``, like the thread dispatcher)."""

    def __init__(self, config: DeliveryProcessConfig) -> None:
        self._config = config
        self._child: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        if self._child is not None and self._child.poll() is None:
            return
        self._child = subprocess.Popen(
            [sys.executable, "-P", "-c", "from wxqr.service.webhooks._process import main; main()"],
            stdin=subprocess.PIPE,
        )
        assert self._child.stdin is not None
        self._child.stdin.write(json.dumps(asdict(self._config)).encode() + b"\n")
        self._child.stdin.flush()

    def stop(self, timeout: float = 15.0) -> None:
        child, self._child = self._child, None
        if child is None:
            return
        if child.stdin is not None:
            with contextlib.suppress(OSError):
                child.stdin.close()  # the child's signal to finish
        try:
            child.wait(timeout)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()

    @property
    def pid(self) -> int | None:
        return None if self._child is None else self._child.pid


def main() -> None:
    """The child: read the configuration, deliver until stdin closes."""
    config = DeliveryProcessConfig(**json.loads(sys.stdin.buffer.readline()))
    logging.basicConfig(level=config.log_level, format="%(levelname)s %(name)s: %(message)s")
    with contextlib.suppress(OSError):
        os.nice(NICENESS)
    dispatcher = WebhookDispatcher.for_database(
        config.database_url,
        AddressPolicy(config.allow_http, config.allow_private),
        DispatcherOptions(retention_seconds=config.retention_seconds),
    )
    dispatcher.start()
    try:
        while sys.stdin.buffer.read(4096):
            pass  # nothing more is sent; EOF means the server is gone
    finally:
        dispatcher.stop()


DeliveryWorker = DeliveryProcess | WebhookDispatcher


def delivery_worker(database_url: str, settings: Settings) -> DeliveryWorker:
    """What ``wxqr serve`` runs beside its job worker: the child process, or (for an
    in-memory SQLite database, which another process cannot open) a thread."""
    policy = AddressPolicy(settings.webhook_allow_http, settings.webhook_allow_private)
    retention = settings.webhook_retention_days * 86400.0
    if is_memory_database(database_url):
        return WebhookDispatcher.for_database(
            database_url, policy, DispatcherOptions(retention_seconds=retention)
        )
    return DeliveryProcess(
        DeliveryProcessConfig(
            database_url=database_url,
            allow_http=policy.allow_http,
            allow_private=policy.allow_private,
            retention_seconds=retention,
            log_level=logging.getLogger().getEffectiveLevel(),
        )
    )
