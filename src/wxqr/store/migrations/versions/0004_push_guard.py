"""The webhook's replay guard: push_signatures (issue 14).

Revision ID: 0004
Revises: 0001
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None

_BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "push_signatures",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("signed_key", sa.String(length=32), nullable=False),
        sa.Column("body_digest", sa.String(length=32), nullable=False),
        sa.Column("seen_at", _BIG, nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_push_signatures_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", "signed_key", name=op.f("pk_push_signatures")),
    )
    op.create_index(
        op.f("ix_push_signatures_seen_at"),
        "push_signatures",
        ["seen_at"],
        unique=False,
        postgresql_using="brin",
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_push_signatures_seen_at"), table_name="push_signatures")
    op.drop_table("push_signatures")
