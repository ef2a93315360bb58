"""The writer process's side: frames on a socket, batches in, outcomes out.

Run by :mod:`._process` as :func:`main` in a new interpreter, with the number of its
end of a socket pair as the one argument. Frames are a 4-byte big-endian length and a
pickled payload. The first frame is the :class:`WriterConfig`; the child answers
``READY`` once its engine is built. Then the serving process sends requests
``(catalog generation, wechat account ids, fetch_user_info, [(seq, deadline, item row),
...])`` and one empty frame to say stop; the child answers each batch with
``[(seq, outcome), ...]``, the outcome being ``(inserted, orphan, SceneInfo | None)``
or the message of the error that kept the push from being made durable.
"""

from __future__ import annotations

import operator
import pickle
import signal
import socket
import struct
import sys
from collections.abc import Iterator
from dataclasses import dataclass, fields
from typing import Any

from wxqr.heap import settle_heap

from ._catalog import SceneCatalog
from ._jobs import JobPolicy
from ._model import IncomingPush, Recorded, SceneInfo
from ._recorder import BatchRecorder, Outcome

__all__ = [
    "Answer",
    "FrameBuffer",
    "Request",
    "WriterConfig",
    "frame",
    "item_row",
    "run_writer_process",
]

Request = tuple[int, frozenset[int], bool, list[tuple[int, float, tuple[Any, ...]]]]
Answer = list[tuple[int, tuple[bool, bool, SceneInfo | None] | str]]

_HEADER = struct.Struct("!I")
READY = b"ready"
item_row = operator.attrgetter(*(f.name for f in fields(IncomingPush)))


@dataclass(frozen=True)
class WriterConfig:
    """What the child needs to build its own engine (the store's URL, never logged)."""

    database_url: str
    synchronous: str = "FULL"
    batch_max: int = 1000
    cache_ttl_seconds: float = 5.0

    def __repr__(self) -> str:
        return f"WriterConfig(batch_max={self.batch_max}, synchronous={self.synchronous!r})"


def frame(payload: bytes) -> bytes:
    return _HEADER.pack(len(payload)) + payload


class FrameBuffer:
    """Reassembles frames from whatever pieces a socket returns."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> Iterator[bytes]:
        self._buffer += data
        buffer = self._buffer
        offset = 0
        while len(buffer) - offset >= _HEADER.size:
            (length,) = _HEADER.unpack_from(buffer, offset)
            end = offset + _HEADER.size + length
            if len(buffer) < end:
                break
            yield bytes(buffer[offset + _HEADER.size : end])
            offset = end
        del buffer[:offset]


def _encode(outcome: Outcome) -> tuple[bool, bool, SceneInfo | None] | str:
    if isinstance(outcome, Recorded):
        return (outcome.inserted, outcome.orphan, outcome.scene_info)
    return str(outcome)


class _Child:
    def __init__(self, sock: socket.socket, config: WriterConfig) -> None:
        from wxqr.store.engines import make_writer_engine

        self.sock = sock
        self.config = config
        self.frames = FrameBuffer()
        self.ready: list[bytes] = []
        self.engine = make_writer_engine(config.database_url, synchronous=config.synchronous)
        self.recorder = BatchRecorder(self.engine, SceneCatalog(ttl=config.cache_ttl_seconds))
        self.generation: int | None = None

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

    def take(self) -> tuple[list[Request], bool]:
        """The requests waiting (at least one), up to ``batch_max`` pushes; True: stop."""
        while not self.ready:
            if not self._receive(block=True):
                return [], True
        alive = self._receive(block=False)
        requests: list[Request] = []
        count = 0
        while self.ready and count < self.config.batch_max:
            payload = self.ready.pop(0)
            if not payload:
                return requests, True
            request: Request = pickle.loads(payload)  # noqa: S301 - our own parent's bytes
            requests.append(request)
            count += len(request[3])
        return requests, not alive and not self.ready

    def write(self, requests: list[Request]) -> bytes:
        last = requests[-1]
        if last[0] != self.generation:
            self.recorder.catalog.clear()
            self.generation = last[0]
        policy = JobPolicy(last[1], last[2])
        seqs = [seq for request in requests for seq, _, _ in request[3]]
        entries = [
            (IncomingPush(*row), deadline)
            for request in requests
            for _, deadline, row in request[3]
        ]
        outcomes = self.recorder.write(entries, policy)
        answer: Answer = [
            (seq, _encode(outcome)) for seq, outcome in zip(seqs, outcomes, strict=True)
        ]
        return frame(pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL))

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
            config = pickle.loads(payload)  # noqa: S301 - our own parent's bytes
            return config if isinstance(config, WriterConfig) else None


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
