"""A response body read from a temporary file: a zip of posters is written to disk while
it is rendered (never held in memory) and streamed to the client afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO

__all__ = ["spooled_chunks"]

_CHUNK = 1024 * 1024


def spooled_chunks(spool: IO[bytes]) -> Iterator[bytes]:
    """``spool`` from its start in 1 MiB pieces; it is closed (a ``TemporaryFile`` is
    deleted) at the end, or when the client goes away."""
    try:
        spool.seek(0)
        while chunk := spool.read(_CHUNK):
            yield chunk
    finally:
        spool.close()
