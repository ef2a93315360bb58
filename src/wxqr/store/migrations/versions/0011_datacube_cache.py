"""The data cube cache and the followers' first-follow index (issue 17 §3, §4).

Revision ID: 0011
Revises: 0006
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0006"
branch_labels: str | None = None
depends_on: str | None = None

_BIGINT = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "datacube_cache",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("endpoint", sa.String(length=32), nullable=False),
        sa.Column("ref_date", sa.String(length=10), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("fetched_at", _BIGINT, nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_datacube_cache_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "account_id", "endpoint", "ref_date", name=op.f("pk_datacube_cache")
        ),
    )
    op.create_index(
        "ix_followers_account_id_first_follow_at",
        "followers",
        ["account_id", "first_follow_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_followers_account_id_first_follow_at", table_name="followers")
    op.drop_table("datacube_cache")
