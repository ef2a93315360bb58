"""Encryption at rest of the secrets wxqr stores, with the keys of ``WXQR_SECRET_KEY``.

The stored secrets are the accounts' token, app secret and AES key, the access tokens of
the database token cache and the dashboard's session secret. With ``WXQR_SECRET_KEY`` set
they are written as ``enc:v1:`` followed by a Fernet token (AES-128-CBC + HMAC-SHA256,
``cryptography``'s :class:`~cryptography.fernet.MultiFernet`): the first key encrypts,
every key decrypts, so a key is rotated by putting the new one first
(``WXQR_SECRET_KEY=new,old``) and running ``wxqr db rotate-secrets``. Values without the
prefix are plaintext from an install without a key (or from before it had one); they are
still read, and encrypted on their next write or by ``rotate-secrets``.

The services reach the box through the engine they already hold: the runtime binds one
box to each engine it builds (:func:`bind_secret_box`) and the store's readers and writers
ask :func:`secret_box`, so no service signature changes with the key (see
docs/adr/0005-secrets-at-rest.md). An engine nobody bound has the plaintext box.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from weakref import WeakKeyDictionary

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import Engine

from wxqr.service.errors import UnavailableError

__all__ = [
    "PLAINTEXT",
    "SEALED_PREFIX",
    "SecretBox",
    "SecretsUnreadable",
    "bind_secret_box",
    "new_secret_key",
    "secret_box",
]

#: What every encrypted stored value starts with (the version names the Fernet scheme).
SEALED_PREFIX = "enc:v1:"


class SecretsUnreadable(UnavailableError):
    """A stored secret is encrypted and no key of ``WXQR_SECRET_KEY`` opens it (or the
    variable is not set). The message names the secret, never its value."""

    title = "Secrets unreadable"


def new_secret_key() -> str:
    """A fresh key for ``WXQR_SECRET_KEY`` (32 random bytes, url-safe base64)."""
    return Fernet.generate_key().decode()


class SecretBox:
    """Seals (encrypts) and opens stored secrets with the keys of ``WXQR_SECRET_KEY``.

    With no keys it is the plaintext box: values are stored as given, and opening a sealed
    value is a :class:`SecretsUnreadable` error saying the key is missing.
    """

    def __init__(self, keys: Sequence[str] = ()) -> None:
        # Fernet() checks each key (32 url-safe base64 bytes); Settings checked them first.
        self._fernet = MultiFernet([Fernet(key) for key in keys]) if keys else None
        self._key_count = len(keys)

    def __repr__(self) -> str:
        return f"SecretBox(keys={self._key_count})"

    @property
    def enabled(self) -> bool:
        """Whether new values are stored encrypted (``WXQR_SECRET_KEY`` is set)."""
        return self._fernet is not None

    @staticmethod
    def is_sealed(stored: str) -> bool:
        return stored.startswith(SEALED_PREFIX)

    def seal(self, value: str) -> str:
        """What to store for ``value``: encrypted with the first key, or as is without keys."""
        if self.is_sealed(value):
            # Only reachable with a hand-made value: it would be read back as ciphertext.
            raise ValueError(f"a secret may not start with {SEALED_PREFIX!r}")
        if self._fernet is None:
            return value
        return SEALED_PREFIX + self._fernet.encrypt(value.encode()).decode("ascii")

    def seal_optional(self, value: str | None) -> str | None:
        return None if value is None else self.seal(value)

    def open(self, stored: str, *, what: str) -> str:
        """The secret ``stored`` holds; ``what`` names it in errors ("the token of wx…")."""
        if not self.is_sealed(stored):
            return stored
        if self._fernet is None:
            raise SecretsUnreadable(
                f"{what} is stored encrypted but WXQR_SECRET_KEY is not set: set it to the "
                "key(s) it was encrypted with"
            )
        try:
            return self._fernet.decrypt(stored[len(SEALED_PREFIX) :].encode("ascii")).decode()
        except (InvalidToken, UnicodeError):
            raise SecretsUnreadable(
                f"{what} cannot be decrypted with any key of WXQR_SECRET_KEY "
                "(wrong key, or the key it was encrypted with was removed)"
            ) from None

    def open_optional(self, stored: str | None, *, what: str) -> str | None:
        return None if stored is None else self.open(stored, what=what)

    def reseal(self, stored: str, *, what: str) -> str:
        """``stored`` encrypted again with the first key (plaintext: encrypted)."""
        return self.seal(self.open(stored, what=what))


#: The box of an install without ``WXQR_SECRET_KEY``.
PLAINTEXT = SecretBox()

_boxes: WeakKeyDictionary[Engine, SecretBox] = WeakKeyDictionary()
_boxes_lock = threading.Lock()


def bind_secret_box(engine: Engine, box: SecretBox) -> None:
    """Make ``box`` the one the store's secrets behind ``engine`` are sealed with
    (the runtime does this for every engine it builds or is given)."""
    with _boxes_lock:
        _boxes[engine] = box


def secret_box(engine: Engine) -> SecretBox:
    """The box bound to ``engine`` (:data:`PLAINTEXT` if none was)."""
    with _boxes_lock:
        return _boxes.get(engine, PLAINTEXT)
