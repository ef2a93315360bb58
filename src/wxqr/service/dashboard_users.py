"""The dashboard's team: users with a role, each limited to the accounts given to them.

Three roles, each allowing what the one below does and more:

* ``viewer``: reads everything of their accounts (pages, charts, exports, images);
  every write is refused, in the service layer too (their workspace is read-only).
* ``editor``: also changes channels, codes and replies (and imports, archives...).
* ``admin``: also the accounts' settings, API keys, webhooks and the users; an admin
  always sees every account (an admin limited to some accounts could otherwise make a
  key or a user for the others).

A user's accounts are an :class:`~wxqr.service.access.AccessScope` (``None``: every
account, also ones added later); :attr:`DashboardUser.scope` is what the dashboard
scopes its workspace to, so a page of another account is *not found*, as for API keys.
Names are folded to lower case (``Alice`` and ``alice`` are one user, and one lock-out
key). The single admin password of earlier versions is the user ``admin`` (migration
0008); :meth:`wxqr.service.admin.AdminAuth.set_password` keeps setting its password.
"""

from __future__ import annotations

import hmac
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from typing import Any

from sqlalchemy import Engine, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from wxqr.service.access import AccessScope
from wxqr.service.accounts import get_account
from wxqr.service.admin import ADMIN_NAME, MAX_TOKEN_LENGTH, AdminAuth, token_hash
from wxqr.service.errors import ConflictError, InvalidInputError, NotFoundError
from wxqr.service.passwords import MIN_PASSWORD_LENGTH, hash_password, verify_password
from wxqr.store.tables import dashboard_sessions, dashboard_users

__all__ = ["ADMIN_NAME", "DashboardUser", "DashboardUsers", "Role", "normal_name"]

_NAME = re.compile(r"^[\w.@+-]{1,64}$")
_LANGUAGE = re.compile(r"^[A-Za-z_]{2,16}$")


class Role(StrEnum):
    VIEWER = "viewer"
    EDITOR = "editor"
    ADMIN = "admin"

    @classmethod
    def parse(cls, text: str) -> Role:
        try:
            return cls(text.strip().lower())
        except ValueError:
            raise InvalidInputError("a role is admin, editor or viewer", field="role") from None

    def allows(self, needed: Role) -> bool:
        """Whether this role may do what ``needed`` may (admin > editor > viewer)."""
        order = (Role.VIEWER, Role.EDITOR, Role.ADMIN)
        return order.index(self) >= order.index(needed)


def normal_name(name: str) -> str:
    """The one spelling of a user name: trimmed, lower case."""
    return name.strip().casefold()


@dataclass(frozen=True, slots=True)
class DashboardUser:
    """A user of the dashboard (never holds the password hash)."""

    id: int
    name: str
    role: Role
    appids: frozenset[str] | None  # None: every account
    language: str | None
    created_at: int
    last_login_at: int | None

    @property
    def scope(self) -> AccessScope:
        """What the user's workspace is limited to: their accounts; read-only for viewers."""
        return AccessScope(appids=self.appids, read_only=self.role is Role.VIEWER)

    @property
    def can_edit(self) -> bool:
        return self.role.allows(Role.EDITOR)

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    def describe_accounts(self) -> str:
        return "all" if self.appids is None else ", ".join(sorted(self.appids))


@cache
def _decoy_hash() -> str:
    """A hash checked for unknown names, so their answer takes as long as a wrong password."""
    return hash_password("wxqr decoy password")


def _user(row: Any) -> DashboardUser:
    appids = row.account_appids
    return DashboardUser(
        id=int(row.id),
        name=str(row.name),
        role=Role(str(row.role)),
        appids=None if appids is None else frozenset(str(a) for a in appids),
        language=row.language,
        created_at=int(row.created_at),
        last_login_at=None if row.last_login_at is None else int(row.last_login_at),
    )


_COLUMNS = (
    dashboard_users.c.id,
    dashboard_users.c.name,
    dashboard_users.c.role,
    dashboard_users.c.account_appids,
    dashboard_users.c.language,
    dashboard_users.c.created_at,
    dashboard_users.c.last_login_at,
)


class DashboardUsers:
    """Add, list, change and remove the dashboard's users; log them in."""

    def __init__(
        self, engine: Engine, auth: AdminAuth, *, clock: Callable[[], float] = time.time
    ) -> None:
        self._engine = engine
        self._auth = auth
        self._clock = clock

    # -- checks ----------------------------------------------------------------------------
    @staticmethod
    def _check_name(name: str) -> str:
        name = normal_name(name)
        if not _NAME.match(name):
            raise InvalidInputError(
                "a user name is 1..64 letters, digits or . _ @ + -", field="name"
            )
        return name

    @staticmethod
    def _check_password(password: str) -> None:
        if len(password) < MIN_PASSWORD_LENGTH:
            raise InvalidInputError(
                f"a password needs at least {MIN_PASSWORD_LENGTH} characters", field="password"
            )
        if len(password) > 1024:
            raise InvalidInputError("a password is at most 1024 characters", field="password")

    def _check_accounts(self, role: Role, accounts: Sequence[str] | None) -> list[str] | None:
        appids = sorted({a.strip() for a in accounts or () if a.strip()})
        if not appids:
            return None
        if role is Role.ADMIN:
            raise InvalidInputError(
                "an admin sees every account: give accounts to editors and viewers only",
                field="account",
            )
        for appid in appids:
            if get_account(self._engine, appid) is None:
                raise NotFoundError(f"no account with appid {appid!r}", field="account")
        return appids

    # -- reading ---------------------------------------------------------------------------
    def list_users(self) -> list[DashboardUser]:
        with self._engine.connect() as conn:
            rows = conn.execute(select(*_COLUMNS).order_by(dashboard_users.c.name)).all()
        return [_user(r) for r in rows]

    def get(self, name: str) -> DashboardUser:
        name = normal_name(name)
        with self._engine.connect() as conn:
            row = conn.execute(select(*_COLUMNS).where(dashboard_users.c.name == name)).first()
        if row is None:
            raise NotFoundError(f"no dashboard user named {name!r}", field="name")
        return _user(row)

    def session_user(self, token: str | None) -> DashboardUser | None:
        """The user of the live session ``token`` (neither expired nor revoked), or None."""
        if not token or len(token) > MAX_TOKEN_LENGTH:
            return None
        digest = token_hash(token)
        s = dashboard_sessions
        with self._engine.connect() as conn:
            row = conn.execute(
                select(*_COLUMNS, s.c.token_hash)
                .join(dashboard_users, dashboard_users.c.id == s.c.user_id)
                .where(
                    s.c.token_hash == digest,
                    s.c.revoked_at.is_(None),
                    s.c.expires_at > int(self._clock()),
                )
            ).first()
        if row is None or not hmac.compare_digest(str(row.token_hash), digest):
            return None
        return _user(row)

    def _admins(self, conn: Any) -> int:
        return int(
            conn.execute(
                select(func.count()).where(dashboard_users.c.role == Role.ADMIN.value)
            ).scalar_one()
        )

    # -- writing ---------------------------------------------------------------------------
    def add(
        self,
        name: str,
        password: str,
        *,
        role: Role | str = Role.VIEWER,
        accounts: Sequence[str] | None = None,
    ) -> DashboardUser:
        """A new user (``accounts``: appids; none: every account)."""
        name = self._check_name(name)
        role = Role.parse(role) if isinstance(role, str) else role
        self._check_password(password)
        appids = self._check_accounts(role, accounts)
        try:
            with self._engine.begin() as conn:
                conn.execute(
                    insert(dashboard_users).values(
                        name=name,
                        password_hash=hash_password(password),
                        role=role.value,
                        account_appids=appids,
                        created_at=int(self._clock()),
                    )
                )
        except IntegrityError:
            raise ConflictError(f"a dashboard user named {name!r} already exists") from None
        return self.get(name)

    def set_role(
        self, name: str, role: Role | str, *, accounts: Sequence[str] | None = None
    ) -> DashboardUser:
        """Change the user's role and accounts (none: every account); the last admin stays."""
        user = self.get(name)
        role = Role.parse(role) if isinstance(role, str) else role
        appids = self._check_accounts(role, accounts)
        with self._engine.begin() as conn:
            if user.is_admin and role is not Role.ADMIN and self._admins(conn) <= 1:
                raise ConflictError(f"{user.name!r} is the last admin: make another admin first")
            conn.execute(
                update(dashboard_users)
                .where(dashboard_users.c.id == user.id)
                .values(role=role.value, account_appids=appids)
            )
        return self.get(user.name)

    def set_password(self, name: str, password: str) -> DashboardUser:
        """A new password for the user; their sessions are logged out."""
        user = self.get(name)
        self._check_password(password)
        with self._engine.begin() as conn:
            conn.execute(
                update(dashboard_users)
                .where(dashboard_users.c.id == user.id)
                .values(password_hash=hash_password(password))
            )
        self._auth.revoke_user_sessions(user.id)
        return user

    def remove(self, name: str) -> DashboardUser:
        """Remove the user and end their sessions; the last admin cannot be removed."""
        user = self.get(name)
        with self._engine.begin() as conn:
            if user.is_admin and self._admins(conn) <= 1:
                raise ConflictError(f"{user.name!r} is the last admin: make another admin first")
            conn.execute(delete(dashboard_users).where(dashboard_users.c.id == user.id))
        self._auth.revoke_user_sessions(user.id)
        return user

    def set_language(self, user_id: int, language: str) -> None:
        """Remember the user's language (the dashboard's switch)."""
        if not _LANGUAGE.match(language):
            raise InvalidInputError("not a language tag", field="language")
        with self._engine.begin() as conn:
            conn.execute(
                update(dashboard_users)
                .where(dashboard_users.c.id == user_id)
                .values(language=language)
            )

    # -- logging in ------------------------------------------------------------------------
    def login(self, name: str, password: str) -> tuple[DashboardUser, str] | None:
        """The user and a new session token if ``password`` is ``name``'s, else None.

        An unknown name costs the same password check as a wrong password, so the answer
        does not tell which names exist."""
        name = normal_name(name)
        with self._engine.connect() as conn:
            row = conn.execute(
                select(dashboard_users.c.id, dashboard_users.c.password_hash).where(
                    dashboard_users.c.name == name
                )
            ).first()
        if row is None:
            verify_password(password, _decoy_hash())
            return None
        if not verify_password(password, str(row.password_hash)):
            return None
        token = self._auth.start_session(int(row.id))
        with self._engine.begin() as conn:
            conn.execute(
                update(dashboard_users)
                .where(dashboard_users.c.id == int(row.id))
                .values(last_login_at=int(self._clock()))
            )
        return self.get(name), token
