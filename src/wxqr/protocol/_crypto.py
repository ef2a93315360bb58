"""WeChat's AES message encryption (the "safe" and "compatible" modes).

key = base64decode(EncodingAESKey + "="), 32 bytes; AES-256-CBC with IV = key[:16];
plaintext = 16 random bytes ‖ 4-byte big-endian length ‖ message ‖ appid, PKCS#7-padded
to a 32-byte block (pad 1..32), then base64.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from ._errors import AppIdMismatch, DecryptError, InvalidAESKey

__all__ = ["MessageCrypto", "decode_aes_key"]

_BLOCK = 32
_AES_KEY_RE = re.compile(r"[A-Za-z0-9+/]{43}")


def decode_aes_key(encoding_aes_key: str) -> bytes:
    """Decode a 43-character EncodingAESKey into the 32-byte AES key."""
    if not isinstance(encoding_aes_key, str) or not _AES_KEY_RE.fullmatch(encoding_aes_key):
        length = len(encoding_aes_key) if isinstance(encoding_aes_key, str) else "no"
        raise InvalidAESKey(
            f"EncodingAESKey must be exactly 43 characters of A-Z, a-z, 0-9, + and /; "
            f"got {length} characters"
        )
    return base64.b64decode(encoding_aes_key + "=")


class MessageCrypto:
    """Encrypts and decrypts messages of one account (appid + EncodingAESKey).

    The key never appears in ``repr`` or in error messages.
    """

    __slots__ = ("_appid", "_appid_bytes", "_key")

    def __init__(self, encoding_aes_key: str, appid: str) -> None:
        self._key = decode_aes_key(encoding_aes_key)
        self._appid = appid
        self._appid_bytes = appid.encode("utf-8")

    @property
    def appid(self) -> str:
        return self._appid

    def __repr__(self) -> str:
        return f"MessageCrypto(appid={self._appid!r}, key=<hidden>)"

    def _cipher(self) -> Cipher[modes.CBC]:
        return Cipher(algorithms.AES(self._key), modes.CBC(self._key[:16]))

    def encrypt(self, message: str | bytes, *, random16: bytes | None = None) -> str:
        """Return the base64 ciphertext of ``message`` (the ``Encrypt`` field)."""
        body = message.encode("utf-8") if isinstance(message, str) else message
        prefix = os.urandom(16) if random16 is None else random16
        if len(prefix) != 16:
            raise ValueError("random16 must be 16 bytes")
        plain = prefix + struct.pack(">I", len(body)) + body + self._appid_bytes
        pad = _BLOCK - len(plain) % _BLOCK
        plain += bytes([pad]) * pad
        encryptor = self._cipher().encryptor()
        return base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode("ascii")

    def decrypt(self, encrypted: str | bytes) -> bytes:
        """Return the message inside ``encrypted``; check padding, length and appid."""
        try:
            raw = base64.b64decode(encrypted, validate=True)
        except (binascii.Error, ValueError):
            raise DecryptError("Encrypt is not valid base64") from None
        if not raw or len(raw) % 16:
            raise DecryptError("ciphertext length is not a positive multiple of 16 bytes")
        decryptor = self._cipher().decryptor()
        plain = decryptor.update(raw) + decryptor.finalize()
        pad = plain[-1]
        if not 1 <= pad <= _BLOCK or pad > len(plain) or plain[-pad:] != bytes([pad]) * pad:
            raise DecryptError("bad padding: wrong key or corrupted ciphertext")
        content = plain[16:-pad]
        if len(content) < 4:
            raise DecryptError("plaintext too short for its length field")
        (length,) = struct.unpack(">I", content[:4])
        if 4 + length > len(content):
            raise DecryptError("length field is larger than the decrypted buffer")
        message = content[4 : 4 + length]
        found = content[4 + length :]
        if found != self._appid_bytes:
            raise AppIdMismatch(self._appid, found.decode("utf-8", "replace"))
        return message
