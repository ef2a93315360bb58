"""Dashboard users with roles (issue 18), and the single admin password made a user.

* ``dashboard_users``: name, scrypt password hash, role (admin | editor | viewer), the
  accounts the user may see (NULL = every account), preferred language, created, last
  login.
* The admin password of earlier versions (the ``settings`` row
  ``dashboard.admin_password``) becomes the user ``admin`` with the role admin and every
  account; its live sessions (``dashboard_sessions.user_id`` NULL) become that user's, so
  nobody is logged out by the upgrade. Downgrading puts the hash of ``admin`` back.

Revision ID: 0008
Revises: 0006
Create Date: 2026-11-29
"""

from __future__ import annotations

import time

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | None = None
depends_on: str | None = None

_BIGINT = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_PASSWORD_KEY = "dashboard.admin_password"  # noqa: S105 - a settings key
_ADMIN = "admin"

_settings = sa.table(
    "settings", sa.column("key", sa.String), sa.column("value", sa.Text), sa.column("updated_at")
)
_sessions = sa.table("dashboard_sessions", sa.column("user_id", sa.Integer))


def upgrade() -> None:
    users = op.create_table(
        "dashboard_users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.String(length=256), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("account_appids", sa.JSON(), nullable=True),
        sa.Column("language", sa.String(length=16), nullable=True),
        sa.Column("created_at", _BIGINT, nullable=False),
        sa.Column("last_login_at", _BIGINT, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dashboard_users")),
        sa.UniqueConstraint("name", name=op.f("uq_dashboard_users_name")),
    )
    assert users is not None
    conn = op.get_bind()
    stored = conn.execute(
        sa.select(_settings.c.value).where(_settings.c.key == _PASSWORD_KEY)
    ).scalar()
    if stored is None:
        return
    conn.execute(
        sa.insert(users).values(
            name=_ADMIN,
            password_hash=str(stored),
            role="admin",
            account_appids=None,
            created_at=int(time.time()),
        )
    )
    admin_id = conn.execute(sa.select(users.c.id).where(users.c.name == _ADMIN)).scalar_one()
    conn.execute(sa.update(_sessions).where(_sessions.c.user_id.is_(None)).values(user_id=admin_id))
    conn.execute(sa.delete(_settings).where(_settings.c.key == _PASSWORD_KEY))


def downgrade() -> None:
    conn = op.get_bind()
    users = sa.table(
        "dashboard_users",
        sa.column("name", sa.String),
        sa.column("password_hash", sa.String),
        sa.column("role", sa.String),
    )
    stored = conn.execute(
        sa.select(users.c.password_hash).where(users.c.name == _ADMIN, users.c.role == "admin")
    ).scalar()
    conn.execute(sa.delete(_sessions))  # sessions of other users would become the admin's
    if stored is not None:
        conn.execute(sa.delete(_settings).where(_settings.c.key == _PASSWORD_KEY))
        conn.execute(
            sa.insert(_settings).values(
                key=_PASSWORD_KEY, value=str(stored), updated_at=int(time.time())
            )
        )
    op.drop_table("dashboard_users")
