"""Errors raised by the protocol core.

All of them derive from :class:`ProtocolError`, so an adapter can map the whole family to
an HTTP status in one place::

    ProtocolError
    ├── InvalidSignature     signature or msg_signature does not hold   (HTTP 403)
    ├── StalePush            timestamp outside the freshness window      (HTTP 403)
    ├── InvalidAESKey        EncodingAESKey is not 43 base64 characters  (configuration)
    ├── DecryptError         ciphertext, padding or length field is wrong (HTTP 400)
    │   └── AppIdMismatch    the ciphertext was sealed for another appid  (HTTP 400)
    ├── MalformedPush        not a WeChat push: bad, hostile or oversize XML (HTTP 400)
    └── InvalidQRRequest     a QR request outside WeChat's documented limits (also ValueError)

Messages never contain tokens, keys or other secrets.
"""

from __future__ import annotations


class ProtocolError(Exception):
    """Base class of every error raised by :mod:`wxqr.protocol`."""


class InvalidSignature(ProtocolError):
    """A ``signature`` or ``msg_signature`` does not match the expected value."""


class StalePush(ProtocolError):
    """A push's timestamp is missing, not an integer, or outside the allowed window."""


class InvalidAESKey(ProtocolError, ValueError):
    """An EncodingAESKey that is not 43 characters of base64 (32 bytes once decoded)."""


class DecryptError(ProtocolError):
    """A ciphertext that cannot be an AES message from WeChat."""


class AppIdMismatch(DecryptError):
    """The decrypted message names another appid than the receiving account's."""

    def __init__(self, expected: str, found: str) -> None:
        super().__init__(f"message was encrypted for appid {found!r}, expected {expected!r}")
        self.expected = expected
        self.found = found


class MalformedPush(ProtocolError, ValueError):
    """The body is not a well-formed, safe WeChat push (or reply) document."""


class InvalidQRRequest(ProtocolError, ValueError):
    """A QR code request outside WeChat's documented limits.

    ``field`` names the offending input and ``limit`` states the documented bound, so a
    caller can show both to a user.
    """

    def __init__(self, field: str, limit: str, value: object) -> None:
        super().__init__(f"{field} must be {limit}, got {value!r}")
        self.field = field
        self.limit = limit
        self.value = value
