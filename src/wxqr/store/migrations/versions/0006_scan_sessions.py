"""Scan sessions and the bindings they make (issue 16).

Revision ID: 0006
Revises: 0003
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None

_BIGINT = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "scan_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=32), nullable=False),
        sa.Column("ref", sa.String(length=128), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=True),
        sa.Column("reply", sa.JSON(), nullable=True),
        sa.Column("once", sa.Boolean(), server_default="1", nullable=False),
        sa.Column("scene", sa.String(length=64), nullable=False),
        sa.Column("ticket", sa.String(length=512), nullable=True),
        sa.Column("url", sa.String(length=256), nullable=True),
        sa.Column("poll_token_hash", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), server_default="pending", nullable=False),
        sa.Column("openid", sa.String(length=64), nullable=True),
        sa.Column("unionid", sa.String(length=64), nullable=True),
        sa.Column("followed_now", sa.Boolean(), nullable=True),
        sa.Column("scanned_at", _BIGINT, nullable=True),
        sa.Column("scans", sa.Integer(), server_default="0", nullable=False),
        sa.Column("expires_at", _BIGINT, nullable=False),
        sa.Column("created_at", _BIGINT, nullable=False),
        sa.Column("updated_at", _BIGINT, nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_scan_sessions_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scan_sessions")),
        sa.UniqueConstraint("scene", name=op.f("uq_scan_sessions_scene")),
    )
    op.create_index(
        op.f("ix_scan_sessions_status_expires_at"),
        "scan_sessions",
        ["status", "expires_at"],
        unique=False,
    )
    op.create_index(
        op.f("ix_scan_sessions_account_id_created_at"),
        "scan_sessions",
        ["account_id", "created_at"],
        unique=False,
    )
    op.create_table(
        "bindings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("ref", sa.String(length=128), nullable=False),
        sa.Column("openid", sa.String(length=64), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=True),
        sa.Column("created_at", _BIGINT, nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_bindings_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bindings")),
        sa.UniqueConstraint(
            "account_id", "ref", "openid", name=op.f("uq_bindings_account_id_ref_openid")
        ),
    )
    op.create_index(
        op.f("ix_bindings_account_id_openid"), "bindings", ["account_id", "openid"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_bindings_account_id_openid"), table_name="bindings")
    op.drop_table("bindings")
    op.drop_index(op.f("ix_scan_sessions_account_id_created_at"), table_name="scan_sessions")
    op.drop_index(op.f("ix_scan_sessions_status_expires_at"), table_name="scan_sessions")
    op.drop_table("scan_sessions")
