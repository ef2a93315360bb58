"""The data cube cache and the follower spans (issue 17 §2, §3, §4).

Revision ID: 0011
Revises: 0006
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
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
    op.create_table(
        "follower_spans",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("first_follow_at", _BIGINT, autoincrement=False, nullable=False),
        sa.Column("openid", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("span_start", _BIGINT, nullable=False),
        sa.Column("span_end", _BIGINT, nullable=True),
        sa.Column("channel_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_follower_spans_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["channels.id"],
            name=op.f("fk_follower_spans_channel_id_channels"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint(
            "account_id", "first_follow_at", "openid", "seq", name=op.f("pk_follower_spans")
        ),
        sqlite_with_rowid=False,
    )
    for columns in (
        ["account_id", "openid"],
        ["account_id", "span_start", "channel_id"],
        ["account_id", "span_end", "channel_id"],
    ):
        op.create_index(
            op.f(f"ix_follower_spans_{'_'.join(columns)}"), "follower_spans", columns, unique=False
        )
    op.create_table(
        "follower_spans_progress",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("last_event_id", _BIGINT, nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_follower_spans_progress_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_follower_spans_progress")),
    )


def downgrade() -> None:
    op.drop_table("follower_spans_progress")
    op.drop_table("follower_spans")
    op.drop_table("datacube_cache")
