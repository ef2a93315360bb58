"""The dashboard's sessions, and the password of its user ``admin`` (``wxqr admin``).

Users and their roles are :mod:`wxqr.service.dashboard_users`; the password of earlier
versions' single admin is the user ``admin`` since migration 0008, and the methods here
that take only a password (:meth:`AdminAuth.set_password`, :meth:`AdminAuth.login`) are
about that user. Passwords are scrypt hashes (:mod:`wxqr.service.passwords`;
docs/security.md says why scrypt). A session is a random
token (256 bits, fresh for every login) held by the browser's cookie; the store keeps
only its SHA-256 in ``dashboard_sessions``, with its expiry, so a session can be revoked:
logout revokes its own, a new password revokes its user's, and a copy of the table
gives no usable cookie; its row names its user. Forms send a CSRF token, an HMAC of the
session token by a server secret kept in ``settings`` (made on first use).
That server secret is encrypted at rest with ``WXQR_SECRET_KEY`` (see
:mod:`wxqr.service.secrets_box`).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable

from sqlalchemy import Engine, delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from wxqr.service.errors import InvalidInputError
from wxqr.service.passwords import (
    MIN_PASSWORD_LENGTH,
    b64,
    hash_password,
    verify_password,
)
from wxqr.service.secrets_box import secret_box
from wxqr.store.tables import dashboard_sessions, dashboard_users, settings

__all__ = [
    "ADMIN_NAME",
    "MAX_TOKEN_LENGTH",
    "MIN_PASSWORD_LENGTH",
    "SESSION_SECONDS",
    "AdminAuth",
    "hash_password",
    "token_hash",
    "verify_password",
]

SECRET_KEY = "dashboard.session_secret"  # noqa: S105 - a settings key
ADMIN_NAME = "admin"
SESSION_SECONDS = 12 * 3600
# Session tokens are token_urlsafe(32): 43 characters. Longer cookies are not looked up.
MAX_TOKEN_LENGTH = 128


def token_hash(token: str) -> str:
    """What the store keeps of a session token: its SHA-256."""
    return hashlib.sha256(token.encode()).hexdigest()


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

    # -- the user "admin"'s password ----------------------------------------------------
    def _admin_row(self) -> tuple[int, str] | None:
        with self._engine.connect() as conn:
            row = conn.execute(
                select(dashboard_users.c.id, dashboard_users.c.password_hash).where(
                    dashboard_users.c.name == ADMIN_NAME
                )
            ).first()
        return None if row is None else (int(row[0]), str(row[1]))

    def set_password(self, password: str) -> None:
        """Set the password of the user ``admin`` (made, as an admin, if missing) and log
        its sessions out: ``wxqr admin set-password``, kept from the single-admin days."""
        if len(password) < MIN_PASSWORD_LENGTH:
            raise InvalidInputError(
                f"the admin password needs at least {MIN_PASSWORD_LENGTH} characters",
                field="password",
            )
        hashed = hash_password(password)
        found = self._admin_row()
        with self._engine.begin() as conn:
            if found is None:
                try:
                    with conn.begin_nested():
                        conn.execute(
                            insert(dashboard_users).values(
                                name=ADMIN_NAME,
                                password_hash=hashed,
                                role="admin",
                                account_appids=None,
                                created_at=int(self._clock()),
                            )
                        )
                except IntegrityError:  # made by another process in between: updated below
                    pass
            conn.execute(
                update(dashboard_users)
                .where(dashboard_users.c.name == ADMIN_NAME)
                .values(password_hash=hashed)
            )
        admin = self._admin_row()
        assert admin is not None
        self.revoke_user_sessions(admin[0])  # a new password logs its sessions out

    def has_password(self) -> bool:
        """Whether anyone can log in (a dashboard user exists)."""
        with self._engine.connect() as conn:
            return conn.execute(select(dashboard_users.c.id).limit(1)).first() is not None

    def check_password(self, password: str) -> bool:
        found = self._admin_row()
        return found is not None and verify_password(password, found[1])

    # -- sessions --------------------------------------------------------------------------
    def _sign(self, payload: str) -> str:
        return b64(hmac.new(self._secret(), payload.encode(), hashlib.sha256).digest())

    @staticmethod
    def _token_hash(token: str) -> str:
        return token_hash(token)

    def login(self, password: str) -> str | None:
        """A new session of the user ``admin`` if ``password`` is theirs, else ``None``."""
        found = self._admin_row()
        if found is None or not verify_password(password, found[1]):
            return None
        return self.start_session(found[0])

    def start_session(self, user_id: int) -> str:
        """A new session token of the user ``user_id``.

        Every login gets its own random token and row (expired rows are pruned here)."""
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
                    user_id=user_id,
                    created_at=now,
                    expires_at=now + self._session_seconds,
                )
            )
        return token

    def session_valid(self, token: str | None) -> bool:
        """Whether ``token`` is a session that is neither expired nor revoked."""
        if not token or len(token) > MAX_TOKEN_LENGTH:
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
        if not token or len(token) > MAX_TOKEN_LENGTH:
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

    def revoke_user_sessions(self, user_id: int) -> None:
        """End every session of one user (a new password, a removed user)."""
        with self._engine.begin() as conn:
            conn.execute(delete(dashboard_sessions).where(dashboard_sessions.c.user_id == user_id))

    def revoke_all_sessions(self) -> None:
        with self._engine.begin() as conn:
            conn.execute(delete(dashboard_sessions))

    def csrf_token(self, session: str) -> str:
        """The token forms of this session must send back (tied to the session)."""
        return self._sign("csrf:" + session)

    def csrf_valid(self, session: str, token: str) -> bool:
        # Bytes: compare_digest refuses non-ASCII str, and a form may send anything.
        return hmac.compare_digest(self.csrf_token(session).encode(), token.encode())
