"""Request signatures: ``signature``, ``msg_signature`` and timestamp freshness."""

from __future__ import annotations

import hashlib
import hmac
import time

from ._errors import InvalidSignature, StalePush

__all__ = [
    "check_timestamp",
    "msg_signature",
    "signature",
    "verify_msg_signature",
    "verify_signature",
]


def _sha1_of_sorted(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode("utf-8")).hexdigest()  # noqa: S324


def signature(token: str, timestamp: str, nonce: str) -> str:
    """SHA-1 hex of ``token``, ``timestamp`` and ``nonce`` sorted and concatenated."""
    return _sha1_of_sorted(token, timestamp, nonce)


def msg_signature(token: str, timestamp: str, nonce: str, encrypt: str) -> str:
    """SHA-1 hex of ``token``, ``timestamp``, ``nonce`` and the ``Encrypt`` field, sorted."""
    return _sha1_of_sorted(token, timestamp, nonce, encrypt)


def _same(expected: str, given: str) -> bool:
    return hmac.compare_digest(expected.encode("ascii"), given.strip().lower().encode("utf-8"))


def verify_signature(token: str, timestamp: str, nonce: str, given: str) -> None:
    """Raise :class:`InvalidSignature` unless ``given`` is the request's signature."""
    if not _same(signature(token, timestamp, nonce), given):
        raise InvalidSignature("signature does not match")


def verify_msg_signature(token: str, timestamp: str, nonce: str, encrypt: str, given: str) -> None:
    """Raise :class:`InvalidSignature` unless ``given`` is the message signature."""
    if not _same(msg_signature(token, timestamp, nonce, encrypt), given):
        raise InvalidSignature("msg_signature does not match")


def check_timestamp(timestamp: str, *, max_age: float, now: float | None = None) -> int:
    """Return ``timestamp`` as an int, or raise :class:`StalePush`.

    The push is refused when it is further than ``max_age`` seconds from ``now`` in either
    direction; ``max_age <= 0`` turns the window off (the timestamp must still be an int).
    """
    try:
        value = int(timestamp)
    except (TypeError, ValueError):
        raise StalePush("timestamp is not an integer") from None
    if max_age > 0:
        current = time.time() if now is None else now
        if abs(current - value) > max_age:
            raise StalePush(f"timestamp is more than {max_age:g} s from now")
    return value
