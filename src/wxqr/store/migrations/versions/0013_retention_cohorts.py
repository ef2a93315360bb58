"""Follower summaries: retention cohorts and audience days per account and channel
(issue 17 §3 target). Created empty: the next retention or audience query of each account
counts them from its follower spans.

Revision ID: 0013
Revises: 0011
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.schema import SchemaItem

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | None = None
depends_on: str | None = None

_COHORT_COUNTS = ("members", "joined", "departed", "first_departed")
_DAY_COUNTS = ("opened", "closed")


def _account(table: str) -> list[SchemaItem]:
    return [
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f(f"fk_{table}_account_id_accounts"),
            ondelete="CASCADE",
        ),
    ]


def _channel(table: str) -> list[SchemaItem]:
    return [
        sa.Column("channel_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["channels.id"],
            name=op.f(f"fk_{table}_channel_id_channels"),
            ondelete="CASCADE",
        ),
    ]


def _int(name: str, *, key: bool = False) -> sa.Column[int]:
    if key:
        return sa.Column(name, sa.Integer(), autoincrement=False, nullable=False)
    return sa.Column(name, sa.Integer(), nullable=False)


def _table(name: str, key: list[str], items: list[SchemaItem], counts: tuple[str, ...]) -> None:
    op.create_table(
        name,
        *items,
        *(_int(c) for c in counts),
        sa.PrimaryKeyConstraint(*key, name=op.f(f"pk_{name}")),
        sqlite_with_rowid=False,
    )


def upgrade() -> None:
    _table(
        "follower_cohorts",
        ["account_id", "day", "day_offset"],
        [*_account("follower_cohorts"), _int("day", key=True), _int("day_offset", key=True)],
        _COHORT_COUNTS,
    )
    _table(
        "follower_channel_cohorts",
        ["account_id", "day", "channel_id", "day_offset"],
        [
            *_account("follower_channel_cohorts"),
            _int("day", key=True),
            *_channel("follower_channel_cohorts"),
            _int("day_offset", key=True),
        ],
        _COHORT_COUNTS,
    )
    _table(
        "follower_days",
        ["account_id", "day"],
        [*_account("follower_days"), _int("day", key=True)],
        _DAY_COUNTS,
    )
    _table(
        "follower_channel_days",
        ["account_id", "day", "channel_id"],
        [
            *_account("follower_channel_days"),
            _int("day", key=True),
            *_channel("follower_channel_days"),
        ],
        _DAY_COUNTS,
    )
    _table(
        "follower_channel_totals",
        ["account_id", "channel_id"],
        [*_account("follower_channel_totals"), *_channel("follower_channel_totals")],
        _DAY_COUNTS,
    )
    for table in ("follower_channel_cohorts", "follower_channel_days"):
        columns = ["account_id", "channel_id", "day"]
        op.create_index(op.f(f"ix_{table}_{'_'.join(columns)}"), table, columns, unique=False)
    op.create_table(
        "follower_summary_zones",
        *_account("follower_summary_zones"),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_follower_summary_zones")),
    )


def downgrade() -> None:
    for table in (
        "follower_summary_zones",
        "follower_channel_totals",
        "follower_channel_days",
        "follower_days",
        "follower_channel_cohorts",
        "follower_cohorts",
    ):
        op.drop_table(table)
