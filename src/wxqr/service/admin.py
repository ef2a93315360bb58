"""The dashboard's admin login: a password set with the CLI, and signed session cookies.

The password is stored in the ``settings`` table as an scrypt hash
(``scrypt$n$r$p$salt$hash``). Sessions are stateless tokens signed with HMAC-SHA256 by a
server secret kept in ``settings`` too (made on first use; encrypted at rest with
``WXQR_SECRET_KEY``, see :mod:`wxqr.service.secrets_box`). A token carries a fingerprint
of the password hash, so setting a new password logs every session out.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from wxqr.service.errors import InvalidInputError
from wxqr.service.secrets_box import secret_box
from wxqr.store.tables import settings

__all__ = ["MIN_PASSWORD_LENGTH", "AdminAuth", "hash_password", "verify_password"]

PASSWORD_KEY = "dashboard.admin_password"  # noqa: S105 - a settings key
SECRET_KEY = "dashboard.session_secret"  # noqa: S105 - a settings key
MIN_PASSWORD_LENGTH = 8
SESSION_SECONDS = 12 * 3600
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = hashlib.scrypt(
        password.encode(), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P, dklen=32
    )
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = _unb64(digest)
        actual = hashlib.scrypt(
            password.encode(),
            salt=_unb64(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(expected),
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


class AdminAuth:
    """Password and sessions of the dashboard's single admin."""

    def __init__(
        self,
        engine: Engine,
        *,
        clock: Callable[[], float] = time.time,
        session_seconds: int = SESSION_SECONDS,
    ) -> None:
        self._engine = engine
        self._clock = clock
        self._session_seconds = session_seconds

    # -- settings rows ---------------------------------------------------------------------
    def _read(self, key: str) -> str | None:
        with self._engine.connect() as conn:
            value = conn.execute(select(settings.c.value).where(settings.c.key == key)).scalar()
        return None if value is None else str(value)

    def _write(self, key: str, value: str) -> None:
        now = int(self._clock())
        with self._engine.begin() as conn:
            done = conn.execute(
                update(settings).where(settings.c.key == key).values(value=value, updated_at=now)
            )
            if done.rowcount == 0:
                conn.execute(insert(settings).values(key=key, value=value, updated_at=now))

    def _secret(self) -> bytes:
        found = self._read(SECRET_KEY)
        if found is None:
            try:
                with self._engine.begin() as conn:
                    conn.execute(
                        insert(settings).values(
                            key=SECRET_KEY,
                            value=secret_box(self._engine).seal(secrets.token_hex(32)),
                            updated_at=int(self._clock()),
                        )
                    )
            except IntegrityError:  # another process made it first
                pass
            found = self._read(SECRET_KEY)
            assert found is not None
        opened = secret_box(self._engine).open(found, what="the dashboard session secret")
        return bytes.fromhex(opened)

    # -- password --------------------------------------------------------------------------
    def set_password(self, password: str) -> None:
        if len(password) < MIN_PASSWORD_LENGTH:
            raise InvalidInputError(
                f"the admin password needs at least {MIN_PASSWORD_LENGTH} characters",
                field="password",
            )
        self._write(PASSWORD_KEY, hash_password(password))

    def has_password(self) -> bool:
        return self._read(PASSWORD_KEY) is not None

    def check_password(self, password: str) -> bool:
        stored = self._read(PASSWORD_KEY)
        return stored is not None and verify_password(password, stored)

    # -- sessions --------------------------------------------------------------------------
    def _fingerprint(self) -> str:
        stored = self._read(PASSWORD_KEY) or ""
        return hashlib.sha256(stored.encode()).hexdigest()[:16]

    def _sign(self, payload: str) -> str:
        return _b64(hmac.new(self._secret(), payload.encode(), hashlib.sha256).digest())

    def login(self, password: str) -> str | None:
        """A new session token if ``password`` is the admin's, else ``None``."""
        if not self.check_password(password):
            return None
        now = int(self._clock())
        payload = f"v1.{now}.{now + self._session_seconds}.{self._fingerprint()}"
        return f"{_b64(payload.encode())}.{self._sign(payload)}"

    def session_valid(self, token: str | None) -> bool:
        if not token or token.count(".") != 1 or len(token) > 512:
            return False
        encoded, signature = token.split(".")
        try:
            payload = _unb64(encoded).decode()
        except ValueError:
            return False
        if not hmac.compare_digest(self._sign(payload), signature):
            return False
        parts = payload.split(".")
        if len(parts) != 4 or parts[0] != "v1":
            return False
        try:
            expires = int(parts[2])
        except ValueError:
            return False
        return expires > self._clock() and hmac.compare_digest(parts[3], self._fingerprint())

    def csrf_token(self, session: str) -> str:
        """The token forms of this session must send back (tied to the session)."""
        return self._sign("csrf:" + session)

    def csrf_valid(self, session: str, token: str) -> bool:
        return hmac.compare_digest(self.csrf_token(session), token)
