"""The writer process's entry point: requests in, one transaction, answers out.

:mod:`._process` runs :func:`main` in a new interpreter with the number of its end of a
socket pair as the one argument. The conversation on that socket is :mod:`._wire`'s: the
configuration, "ready", then requests until a stop frame or the end of the socket. Each
turn the child takes every request waiting (up to ``batch_max`` pushes), records them in
one transaction with :class:`~._recording.BatchRecorder`, and answers once.
"""

from __future__ import annotations

import signal
import socket
import sys

from wxqr.heap import settle_heap
from wxqr.service.catalog_version import CatalogVersion

from ._catalog import SceneCatalog
from ._recording import BatchRecorder
from ._wire import (
    READY,
    FrameBuffer,
    WriterConfig,
    WriteRequest,
    decode_config,
    decode_request,
    encode_answer,
    frame,
)

__all__ = ["main", "run_writer_process"]


class _Child:
    def __init__(self, sock: socket.socket, config: WriterConfig) -> None:
        from wxqr.store.engines import make_writer_engine

        self.sock = sock
        self.config = config
        self.frames = FrameBuffer()
        self.ready: list[bytes] = []
        self.engine = make_writer_engine(
            config.database_url,
            synchronous=config.synchronous,
            connect_timeout=config.connect_timeout_seconds,
            statement_timeout=config.statement_timeout_seconds,
        )
        # The serving process's version arrives with each request (see write()).
        self.catalog = SceneCatalog(CatalogVersion(), ttl=config.cache_ttl_seconds)
        self.recorder = BatchRecorder(
            self.engine, self.catalog, signature_ttl=config.signature_ttl_seconds
        )
        self.catalog_version: int | None = None

    def _receive(self, *, block: bool) -> bool:
        """Read what the socket has (waiting for something when ``block``); False at EOF."""
        try:
            data = self.sock.recv(1 << 20, 0 if block else socket.MSG_DONTWAIT)
        except BlockingIOError:
            return True
        if not data:
            return False
        self.ready.extend(self.frames.feed(data))
        return True

    def take(self) -> tuple[list[WriteRequest], bool]:
        """The requests waiting (at least one), up to ``batch_max`` pushes; True: stop."""
        while not self.ready:
            if not self._receive(block=True):
                return [], True
        alive = self._receive(block=False)
        requests: list[WriteRequest] = []
        count = 0
        while self.ready and count < self.config.batch_max:
            payload = self.ready.pop(0)
            if not payload:
                return requests, True
            request = decode_request(payload)
            requests.append(request)
            count += len(request.entries)
        return requests, not alive and not self.ready

    def write(self, requests: list[WriteRequest]) -> bytes:
        """Record ``requests`` in one transaction; the answer frame."""
        last = requests[-1]
        if last.catalog_version != self.catalog_version:
            self.catalog.clear()
            self.catalog_version = last.catalog_version
        entries = [entry for request in requests for entry in request.entries]
        outcomes = self.recorder.write(
            [(push, deadline) for _, deadline, push in entries], last.policy
        )
        return encode_answer(
            [(seq, outcome) for (seq, _, _), outcome in zip(entries, outcomes, strict=True)]
        )

    def run(self) -> None:
        while True:
            requests, stop = self.take()
            if requests:
                try:
                    self.sock.sendall(self.write(requests))
                except OSError:
                    return  # the serving process is gone
            if stop:
                return


def _read_config(sock: socket.socket) -> WriterConfig | None:
    frames = FrameBuffer()
    while True:
        data = sock.recv(1 << 16)
        if not data:
            return None
        for payload in frames.feed(data):
            return decode_config(payload)


def run_writer_process(sock: socket.socket) -> None:
    """The child's main loop, until the serving process says stop or goes away."""
    # Ctrl-C and a service manager's TERM reach the whole process group; the serving
    # process shuts down gracefully and tells this one to stop once its queue is written.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    sock.setblocking(True)
    try:
        config = _read_config(sock)
        if config is None:
            return
        child = _Child(sock, config)
        settle_heap()  # this process is the writer's alone
        try:
            sock.sendall(frame(READY))
            child.run()
        finally:
            child.engine.dispose()
    finally:
        sock.close()


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not argv[0].isdigit():
        print("usage: main(['FD']): FD is the writer's end of a socket pair", file=sys.stderr)
        return 2
    run_writer_process(socket.socket(fileno=int(argv[0])))
    return 0
