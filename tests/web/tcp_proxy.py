"""A tiny TCP proxy the tests control: forward, pause (hold every byte, like a hung
server), or break (close every connection and refuse new ones, like a stopped one)."""

from __future__ import annotations

import select
import socket
import threading
from types import TracebackType
from typing import Self


class TcpProxy:
    """Forwards 127.0.0.1:``port`` to ``target`` in one thread (loopback only)."""

    def __init__(self, target: tuple[str, int]) -> None:
        self._target = target
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.setblocking(False)
        self.port: int = self._listener.getsockname()[1]
        self._pairs: dict[socket.socket, socket.socket] = {}
        self._paused = False
        self._broken = False
        self._stop = False
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="tcp-proxy", daemon=True)
        self._thread.start()

    def pause(self) -> None:
        """Stop forwarding (connections stay open; new ones are accepted and held)."""
        with self._lock:
            self._paused = True

    def resume(self) -> None:
        with self._lock:
            self._paused = False
            self._broken = False

    def break_(self) -> None:
        """Close every connection; new ones are closed as soon as accepted."""
        with self._lock:
            self._broken = True
            for sock in list(self._pairs):
                sock.close()
            self._pairs.clear()

    def _run(self) -> None:
        while not self._stop:
            with self._lock:
                paused, broken = self._paused, self._broken
                socks = [] if paused else list(self._pairs)
            readable, _, _ = select.select([self._listener, *socks], [], [], 0.05)
            for sock in readable:
                if sock is self._listener:
                    self._accept(broken)
                    continue
                with self._lock:
                    peer = self._pairs.get(sock)
                if peer is None:
                    continue
                try:
                    data = sock.recv(65536)
                    if data:
                        peer.sendall(data)
                        continue
                except OSError:
                    pass
                self._drop(sock)

    def _accept(self, broken: bool) -> None:
        try:
            client, _ = self._listener.accept()
        except BlockingIOError:
            return
        if broken:
            client.close()
            return
        try:
            upstream = socket.create_connection(self._target, timeout=2)
        except OSError:
            client.close()
            return
        with self._lock:
            self._pairs[client] = upstream
            self._pairs[upstream] = client

    def _drop(self, sock: socket.socket) -> None:
        with self._lock:
            peer = self._pairs.pop(sock, None)
            if peer is not None:
                self._pairs.pop(peer, None)
        for s in (sock, peer):
            if s is not None:
                s.close()

    def close(self) -> None:
        self._stop = True
        self._thread.join(timeout=2)
        self.break_()
        self._listener.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
