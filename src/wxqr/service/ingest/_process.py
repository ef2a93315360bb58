"""Group commit in a process of its own (what ``wxqr serve`` runs).

In one Python process a writer thread and the event loop take turns on the GIL, so every
database call of a batch delays the answers of the pushes still being parsed. Here the
batches are written by a child process, on another core:

* the child is :func:`wxqr.service.ingest._child.main` in a new interpreter, started
  with one end of a socket pair (its configuration, the database URL included, goes
  over the socket, never on the command line) and answering "ready" once its engine is built;
* handlers queue their push; while fewer than two frames are unanswered it goes at once,
  otherwise the queue fills while the child commits and goes as one frame when a batch
  is answered (so batches size themselves to the load, and the next batch already waits
  in the socket when the child finishes one); frames are written without blocking;
* the child takes every frame waiting (up to ``batch_max`` pushes), records them in one
  transaction (:class:`~._recording.BatchRecorder`), commits, and answers with one frame
  (the frames are :mod:`._wire`'s);
* the loop reads the answer and resolves the handlers' futures directly: no thread, no
  GIL hand-offs on the hot path.

A push is only ever answered as recorded after the child's commit, so the webhook's
promise holds: a push answered 200 is on disk. If the child dies, every push it had not
answered fails with :class:`~._model.IngestUnavailable` (the handlers answer 503,
WeChat retries, the dedup key makes a retry of a committed push a no-op) and a new child
is started. The child exits when the serving process closes the socket or dies.

The writer attaches to the event loop of the first push it is given; pushes must come
from that loop (one per ``wxqr serve`` process).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from wxqr.service.catalog_version import CatalogVersion

from ._jobs import JobPolicy
from ._model import IngestUnavailable, Outcome, Recorded
from ._wire import (
    READY,
    STOP,
    FrameBuffer,
    WriterConfig,
    decode_answer,
    encode_config,
    encode_request,
)
from ._writer import Pending, resolve

__all__ = ["ProcessWriter", "WriterConfig"]

log = logging.getLogger(__name__)

_RESTART_PAUSE = 0.5
# Batches sent and not answered: the next one waits in the socket while the child commits.
_MAX_IN_FLIGHT = 2
# Queue length at which pushes already answered 503 are dropped from the queue.
PRUNE_AT = 10_000
_START_TIMEOUT = 30.0
# -P: the working directory is not put on sys.path (nothing there can shadow wxqr).
_CHILD_MAIN = (
    "import sys; from wxqr.service.ingest._child import main; sys.exit(main(sys.argv[1:]))"
)


class ProcessWriter:
    """Group commit in a child process; the same interface as the writer thread."""

    def __init__(
        self,
        config: WriterConfig,
        *,
        catalog_version: CatalogVersion | None = None,
        policy: Callable[[], JobPolicy] = JobPolicy,
        on_commit: Callable[[Sequence[Recorded]], None] | None = None,
    ) -> None:
        self._config = config
        self._catalog_version = catalog_version or CatalogVersion()
        self._policy = policy
        self.on_commit = on_commit
        self.on_batch: Callable[[int, float], None] | None = None  # ops: metrics
        self._lock = threading.Lock()
        self._seq = itertools.count()
        self._waiting: dict[int, Pending] = {}
        self._outbox: list[tuple[int, Pending]] = []
        self._unsent = bytearray()
        self._frames = FrameBuffer()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._sock: socket.socket | None = None
        self._process: Any = None
        self._closed = False
        self._exited: asyncio.Event | None = None
        self._watched = -1  # the socket's descriptor while the loop watches it
        self._in_flight = 0  # frames sent to the child and not answered yet
        # The child may answer several frames at once (one transaction for all it had
        # waiting): a frame is answered when every push of it is, so each push's frame
        # is remembered, with the pushes each frame still waits for.
        self._frame_numbers = itertools.count()
        self._frame_of: dict[int, int] = {}
        self._frame_left: dict[int, int] = {}
        self._frame_sent: dict[int, tuple[int, float]] = {}  # (pushes, perf_counter) for on_batch
        self.batches = 0
        self.recorded = 0
        self.restarts = 0

    @property
    def frames_in_flight(self) -> int:
        """Frames sent to the writer process and not answered yet (at most two)."""
        return self._in_flight

    @property
    def pid(self) -> int | None:
        """The child's process id (None before it is started)."""
        return None if self._process is None else int(self._process.pid)

    @property
    def running(self) -> bool:
        """ops: started, not closed, and the child alive (/readyz)."""
        process = self._process
        return not self._closed and process is not None and process.poll() is None

    @property
    def pending(self) -> int:
        """Pushes queued or in flight whose handlers still wait (or have not been pruned)."""
        return len(self._waiting)

    # -- starting and stopping the child

    def start(self) -> None:
        """Start the child (blocking; any thread)."""
        with self._lock:
            if self._process is None and not self._closed:
                self._spawn()

    def _spawn(self) -> None:
        ours, theirs = socket.socketpair()
        try:
            process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
                [sys.executable, "-P", "-c", _CHILD_MAIN, str(theirs.fileno())],
                pass_fds=[theirs.fileno()],
                stdin=subprocess.DEVNULL,
            )
        except OSError as exc:
            ours.close()
            raise RuntimeError(f"the ingest writer process did not start: {exc}") from None
        finally:
            theirs.close()
        try:
            ours.settimeout(_START_TIMEOUT)
            ours.sendall(encode_config(self._config))
            frames = FrameBuffer()
            ready: list[bytes] = []
            while not ready:
                data = ours.recv(1 << 16)
                if not data:
                    raise OSError("it exited")
                ready.extend(frames.feed(data))
            if ready != [READY]:
                raise OSError(f"it said {ready[0][:40]!r}")
        except OSError as exc:
            ours.close()
            process.kill()
            process.wait()
            raise RuntimeError(f"the ingest writer process did not start: {exc}") from None
        ours.setblocking(False)
        self._sock, self._process = ours, process
        self._frames = FrameBuffer()
        self._unsent = bytearray()

    def _attach(self, loop: asyncio.AbstractEventLoop) -> None:
        self.start()
        self._loop = loop
        self._exited = asyncio.Event()
        self._watch()

    def _watch(self) -> None:
        assert self._loop is not None
        assert self._sock is not None
        self._watched = self._sock.fileno()
        self._loop.add_reader(self._watched, self._on_readable)

    def _unwatch(self) -> None:
        if self._loop is not None and self._watched >= 0:
            self._loop.remove_reader(self._watched)
            self._loop.remove_writer(self._watched)
        self._watched = -1

    # -- the hot path (on the loop)

    def submit(self, pending: Pending) -> None:
        if self._closed:
            raise IngestUnavailable("the writer is shut down")
        if self._loop is None:
            self._attach(pending.loop)
        elif pending.loop is not self._loop:
            raise IngestUnavailable("the writer serves another event loop")
        seq = next(self._seq)
        self._waiting[seq] = pending
        self._outbox.append((seq, pending))
        if len(self._outbox) >= PRUNE_AT:
            self._prune()
        if self._in_flight < _MAX_IN_FLIGHT:
            self._flush()

    def _prune(self) -> None:
        """Drop queued pushes whose handlers have given up (a writer stuck on the
        database must not make the queue grow without bound)."""
        kept = []
        for seq, pending in self._outbox:
            if pending.future.done():
                self._waiting.pop(seq, None)
            else:
                kept.append((seq, pending))
        self._outbox = kept

    def _flush(self) -> None:
        if self._sock is None:
            return  # a new child is being started: the queue goes to it
        self._prune()
        taken, self._outbox = self._outbox, []
        if not taken:
            return
        entries = [(seq, p.deadline, p.item) for seq, p in taken]
        frame = next(self._frame_numbers)
        self._frame_left[frame] = len(entries)
        for seq, _ in taken:
            self._frame_of[seq] = frame
        self._frame_sent[frame] = (len(entries), time.perf_counter())
        self._in_flight += 1
        self._write(encode_request(self._catalog_version.current, self._policy(), entries))

    def _write(self, data: bytes) -> None:
        sock, loop = self._sock, self._loop
        if sock is None or loop is None:
            return
        if self._unsent:
            self._unsent += data
            return
        try:
            sent = sock.send(data)
        except BlockingIOError:
            sent = 0
        except OSError:
            self._child_exited()
            return
        if sent < len(data):
            self._unsent += data[sent:]
            loop.add_writer(sock.fileno(), self._on_writable)

    def _on_writable(self) -> None:
        sock, loop = self._sock, self._loop
        if sock is None or loop is None:
            return
        try:
            sent = sock.send(self._unsent)
        except BlockingIOError:
            return
        except OSError:
            self._child_exited()
            return
        del self._unsent[:sent]
        if not self._unsent:
            loop.remove_writer(sock.fileno())

    def _on_readable(self) -> None:
        sock = self._sock
        if sock is None:
            return
        try:
            data = sock.recv(1 << 20)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self._child_exited()
            return
        for payload in self._frames.feed(data):
            answer = decode_answer(payload)
            self._answered(seq for seq, _ in answer)
            self._dispatch(answer)
        if self._in_flight < _MAX_IN_FLIGHT and self._outbox:
            self._flush()

    def _answered(self, seqs: Iterable[int]) -> None:
        """Count the frames whose every push is answered as no longer in flight."""
        for seq in seqs:
            frame = self._frame_of.pop(seq, None)
            if frame is None:
                continue
            self._frame_left[frame] -= 1
            if not self._frame_left[frame]:
                del self._frame_left[frame]
                self._in_flight -= 1
                size, sent = self._frame_sent.pop(frame)
                if self.on_batch is not None:  # metrics: the frame's size and round trip
                    self.on_batch(size, time.perf_counter() - sent)

    def _dispatch(self, answer: list[tuple[int, Outcome]]) -> None:
        committed: list[Recorded] = []
        pairs: list[tuple[Pending, Outcome]] = []
        for seq, outcome in answer:
            if isinstance(outcome, Recorded):
                committed.append(outcome)
            pending = self._waiting.pop(seq, None)
            if pending is not None:
                pairs.append((pending, outcome))
        resolve(pairs)
        if committed:
            self.batches += 1
            self.recorded += len(committed)
            if self.on_commit is not None:
                self.on_commit(committed)

    def _fail_all(self, reason: str) -> None:
        waiting, self._waiting = self._waiting, {}
        self._outbox = []
        self._in_flight = 0
        self._frame_of.clear()
        self._frame_left.clear()
        self._frame_sent.clear()
        resolve([(pending, IngestUnavailable(reason)) for pending in waiting.values()])

    # -- the child going away

    def _child_exited(self) -> None:
        if self._sock is None:
            return  # already handled
        self._unwatch()
        self._fail_all("the writer process exited")
        self._sock.close()
        self._sock = None
        if self._closed:
            if self._exited is not None:
                self._exited.set()
            return
        code = None if self._process is None else self._process.wait()
        log.warning("the ingest writer process exited (code %s); starting a new one", code)
        assert self._loop is not None
        self._loop.call_later(_RESTART_PAUSE, self._restart)

    def _restart(self) -> None:
        with self._lock:
            if self._closed:
                return
            try:
                self._spawn()
            except RuntimeError as exc:
                log.error("%s; trying again", exc)
                assert self._loop is not None
                self._loop.call_later(_RESTART_PAUSE, self._restart)
                return
            self.restarts += 1
        self._watch()
        if self._outbox:
            self._flush()

    async def aclose(self, grace: float = 10.0) -> None:
        """On the loop: send what is queued, let the child write it (for at most
        ``grace`` seconds), then stop it."""
        timeout = grace
        if self._closed:
            return
        self._closed = True
        if self._loop is None or self._exited is None:
            self._stop_unattached(timeout)
            return
        if self._sock is not None:  # else the child is being replaced: nothing to wait for
            if self._outbox:
                self._flush()
            self._write(STOP)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await self._exited.wait()
        self._unwatch()
        await asyncio.to_thread(self._reap, timeout)
        self._fail_all("the writer is shut down")

    def close(self, timeout: float = 10.0) -> None:
        """From any thread but the loop's: as :meth:`aclose`."""
        loop = self._loop
        if loop is not None and loop.is_running() and not self._closed:
            future = asyncio.run_coroutine_threadsafe(self.aclose(grace=timeout), loop)
            with contextlib.suppress(TimeoutError):
                future.result(timeout + 2)
            return
        if not self._closed:
            self._closed = True
            self._stop_unattached(timeout)

    def _stop_unattached(self, timeout: float) -> None:
        sock = self._sock
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setblocking(True)
                sock.sendall(STOP)
        self._reap(timeout)

    def _reap(self, timeout: float) -> None:
        process = self._process
        if process is not None:
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.terminate()
                process.wait(5)
        if self._sock is not None:
            self._sock.close()
