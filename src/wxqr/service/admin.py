"""The dashboard's admin login: a password set with the CLI, and revocable sessions.

The password is stored in the ``settings`` table as an scrypt hash
(``scrypt$n$r$p$salt$hash``; docs/security.md says why scrypt). A session is a random
token (256 bits, fresh for every login) held by the browser's cookie; the store keeps
only its SHA-256 in ``dashboard_sessions``, with its expiry, so a session can be revoked:
logout revokes its own, a new password revokes them all, and a copy of the table gives
no usable cookie. Forms send a CSRF token, an HMAC of the session token by a server
secret kept in ``settings`` (made on first use).
That server secret is encrypted at rest with ``WXQR_SECRET_KEY`` (see
:mod:`wxqr.service.secrets_box`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable

from sqlalchemy import Engine, delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from wxqr.service.errors import InvalidInputError
from wxqr.service.secrets_box import secret_box
from wxqr.store.tables import dashboard_sessions, settings

__all__ = [
    "MIN_PASSWORD_LENGTH",
    "SESSION_SECONDS",
    "AdminAuth",
    "hash_password",
    "verify_password",
]

PASSWORD_KEY = "dashboard.admin_password"  # noqa: S105 - a settings key
SECRET_KEY = "dashboard.session_secret"  # noqa: S105 - a settings key
MIN_PASSWORD_LENGTH = 8
SESSION_SECONDS = 12 * 3600
# Session tokens are token_urlsafe(32): 43 characters. Longer cookies are not looked up.
_MAX_TOKEN_LENGTH = 128
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
        self.revoke_all_sessions()  # a new password logs every session out

    def has_password(self) -> bool:
        return self._read(PASSWORD_KEY) is not None

    def check_password(self, password: str) -> bool:
        stored = self._read(PASSWORD_KEY)
        return stored is not None and verify_password(password, stored)

    # -- sessions --------------------------------------------------------------------------
    def _sign(self, payload: str) -> str:
        return _b64(hmac.new(self._secret(), payload.encode(), hashlib.sha256).digest())

    @staticmethod
    def _token_hash(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    def login(self, password: str) -> str | None:
        """A new session token if ``password`` is the admin's, else ``None``.

        Every login gets its own random token and row (expired rows are pruned here)."""
        if not self.check_password(password):
            return None
        token = secrets.token_urlsafe(32)
        now = int(self._clock())
        with self._engine.begin() as conn:
            conn.execute(
                delete(dashboard_sessions).where(
                    or_(
                        dashboard_sessions.c.expires_at <= now,
                        dashboard_sessions.c.revoked_at.is_not(None),
                    )
                )
            )
            conn.execute(
                insert(dashboard_sessions).values(
                    token_hash=self._token_hash(token),
                    created_at=now,
                    expires_at=now + self._session_seconds,
                )
            )
        return token

    def session_valid(self, token: str | None) -> bool:
        """Whether ``token`` is a session that is neither expired nor revoked."""
        if not token or len(token) > _MAX_TOKEN_LENGTH:
            return False
        digest = self._token_hash(token)
        with self._engine.connect() as conn:
            row = conn.execute(
                select(dashboard_sessions.c.token_hash).where(
                    dashboard_sessions.c.token_hash == digest,
                    dashboard_sessions.c.revoked_at.is_(None),
                    dashboard_sessions.c.expires_at > int(self._clock()),
                )
            ).first()
        # Found through the index; compared once more in constant time anyway.
        return row is not None and hmac.compare_digest(str(row[0]), digest)

    def logout(self, token: str) -> bool:
        """Revoke the session ``token`` (its cookie stops working at once); False if it
        was not a live session."""
        if not token or len(token) > _MAX_TOKEN_LENGTH:
            return False
        with self._engine.begin() as conn:
            done = conn.execute(
                update(dashboard_sessions)
                .where(
                    dashboard_sessions.c.token_hash == self._token_hash(token),
                    dashboard_sessions.c.revoked_at.is_(None),
                )
                .values(revoked_at=int(self._clock()))
            )
        return bool(done.rowcount)

    def revoke_all_sessions(self) -> None:
        with self._engine.begin() as conn:
            conn.execute(delete(dashboard_sessions))

    def csrf_token(self, session: str) -> str:
        """The token forms of this session must send back (tied to the session)."""
        return self._sign("csrf:" + session)

    def csrf_valid(self, session: str, token: str) -> bool:
        # Bytes: compare_digest refuses non-ASCII str, and a form may send anything.
        return hmac.compare_digest(self.csrf_token(session).encode(), token.encode())
