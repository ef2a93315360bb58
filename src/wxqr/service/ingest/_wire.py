"""The wire format between the serving process and its writer process, in one place.

Every message is a frame: a 4-byte big-endian length, then a pickled payload (both ends
are the same wxqr, started from the same interpreter; the bytes never leave the socket
pair). The conversation:

1. serving → writer: the :class:`WriterConfig` (:func:`encode_config`);
   writer → serving: :data:`READY` once its engine is built.
2. serving → writer: any number of :class:`WriteRequest` frames (:func:`encode_request`);
   writer → serving: one answer per request it took (:func:`encode_answer`) with one
   ``(seq, Outcome)`` per push of the requests it recorded together.
3. serving → writer: :data:`STOP` (an empty frame): write what you have, then exit.

On the wire a push is the tuple of its :class:`~._model.IncomingPush` fields and an
outcome is ``(inserted, orphan, SceneInfo | None)``, the message of the error, or None
for a push refused by the replay guard: plain
tuples pickle several times faster than dataclasses, and the hot path sends thousands a
second. Only this module knows those shapes; both sides see typed values.
"""

from __future__ import annotations

import operator
import pickle
import struct
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, fields
from typing import Any, NamedTuple

from ._jobs import JobPolicy
from ._model import IncomingPush, IngestUnavailable, Outcome, Recorded, ReplayedSignature, SceneInfo

__all__ = [
    "READY",
    "STOP",
    "FrameBuffer",
    "WriteRequest",
    "WriterConfig",
    "decode_answer",
    "decode_config",
    "decode_request",
    "encode_answer",
    "encode_config",
    "encode_request",
    "frame",
]

_HEADER = struct.Struct("!I")
_PICKLE = pickle.HIGHEST_PROTOCOL
_push_fields = operator.attrgetter(*(f.name for f in fields(IncomingPush)))


@dataclass(frozen=True)
class WriterConfig:
    """What the writer process needs to build its own engine (the store's URL, never
    logged or shown in a repr)."""

    database_url: str
    synchronous: str = "FULL"
    batch_max: int = 1000
    cache_ttl_seconds: float = 5.0
    # How long signed queries are remembered by the replay guard (seconds).
    signature_ttl_seconds: float = 86400.0
    # PostgreSQL: seconds to connect, and the longest statement (0: no limit).
    connect_timeout_seconds: float = 5.0
    statement_timeout_seconds: float = 30.0

    def __repr__(self) -> str:
        return f"WriterConfig(batch_max={self.batch_max}, synchronous={self.synchronous!r})"


class WriteRequest(NamedTuple):
    """Pushes to record, with what the writer needs to know to record them."""

    catalog_version: int  # the serving process's CatalogVersion: a change empties caches
    policy: JobPolicy
    entries: list[tuple[int, float, IncomingPush]]  # (seq, deadline, push)


#: The writer is ready (its engine is built).
READY = b"ready"


def frame(payload: bytes) -> bytes:
    """``payload`` with its length header."""
    return _HEADER.pack(len(payload)) + payload


#: Stop once what was sent is written (an empty frame).
STOP = frame(b"")


class FrameBuffer:
    """Reassembles frames from whatever pieces a socket returns."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> Iterator[bytes]:
        """The payloads completed by ``data`` (a frame split across reads waits)."""
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


# -- the first frame


def encode_config(config: WriterConfig) -> bytes:
    return frame(pickle.dumps(config, protocol=_PICKLE))


def decode_config(payload: bytes) -> WriterConfig | None:
    """The configuration in ``payload`` (None: something else)."""
    config = pickle.loads(payload)  # noqa: S301 - our own parent's bytes
    return config if isinstance(config, WriterConfig) else None


# -- serving process → writer


def encode_request(
    catalog_version: int,
    policy: JobPolicy,
    entries: Sequence[tuple[int, float, IncomingPush]],
) -> bytes:
    """A frame asking the writer to record ``entries`` ((seq, deadline, push))."""
    rows = [(seq, deadline, _push_fields(push)) for seq, deadline, push in entries]
    wire = (catalog_version, tuple(policy.wechat_accounts), policy.fetch_user_info, rows)
    return frame(pickle.dumps(wire, protocol=_PICKLE))


def decode_request(payload: bytes) -> WriteRequest:
    version, accounts, fetch_user_info, rows = pickle.loads(payload)  # noqa: S301 - as above
    return WriteRequest(
        catalog_version=version,
        policy=JobPolicy(frozenset(accounts), fetch_user_info),
        entries=[(seq, deadline, IncomingPush(*row)) for seq, deadline, row in rows],
    )


# -- writer → serving process

_WireOutcome = tuple[bool, bool, SceneInfo | None] | str | None


def _wire_outcome(outcome: Outcome) -> _WireOutcome:
    if isinstance(outcome, Recorded):
        return (outcome.inserted, outcome.orphan, outcome.scene_info)
    if isinstance(outcome, ReplayedSignature):
        return None
    return str(outcome)


def _outcome(encoded: _WireOutcome) -> Outcome:
    if encoded is None:
        return ReplayedSignature("signed query already used with another body")
    if isinstance(encoded, str):
        return IngestUnavailable(encoded)
    return Recorded(inserted=encoded[0], orphan=encoded[1], scene_info=encoded[2])


def encode_answer(outcomes: Sequence[tuple[int, Outcome]]) -> bytes:
    """A frame with the ``(seq, outcome)`` of every push the writer took."""
    wire: list[tuple[int, _WireOutcome]] = [(seq, _wire_outcome(o)) for seq, o in outcomes]
    return frame(pickle.dumps(wire, protocol=_PICKLE))


def decode_answer(payload: bytes) -> list[tuple[int, Outcome]]:
    wire: list[tuple[int, Any]] = pickle.loads(payload)  # noqa: S301 - our own child's bytes
    return [(seq, _outcome(encoded)) for seq, encoded in wire]
