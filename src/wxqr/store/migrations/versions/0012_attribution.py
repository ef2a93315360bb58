"""Unfollow attribution models and conversion counts in the stats rollups (issue 17 §5).

The rollups gain, per block, the unfollows by last touch (``unfollows`` stays first touch)
and the follow scans (``subscribe_scan``); per user, the latest follow's channel and the
latest folded follow-or-unfollow (to see a late push). The rollups are derived data: the
tables are recreated empty and every account is unbuilt, so the serve's worker (or
``wxqr stats rebuild``) rebuilds them from the log; queries use the log meanwhile.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-29
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | None = None
depends_on: str | None = None

_BIGINT = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_BLOCKS = (
    ("stats_account_blocks", "account_id", "accounts"),
    ("stats_channel_blocks", "channel_id", "channels"),
)


def _owner(table: str, column: str, referred: str) -> list[Any]:
    return [
        sa.Column(column, sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            [column],
            [f"{referred}.id"],
            name=op.f(f"fk_{table}_{column}_{referred}"),
            ondelete="CASCADE",
        ),
    ]


def _channel_ref(column: str) -> list[Any]:
    return [
        sa.Column(column, sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            [column],
            ["channels.id"],
            name=op.f(f"fk_stats_users_{column}_channels"),
            ondelete="SET NULL",
        ),
    ]


def _users(with_touches: bool) -> None:
    extra: list[Any] = []
    if with_touches:
        extra = [
            *_channel_ref("last_follow_channel_id"),
            sa.Column("last_touch_time", _BIGINT, nullable=True),
            sa.Column("last_touch_id", _BIGINT, nullable=True),
        ]
    op.create_table(
        "stats_users",
        *_owner("stats_users", "account_id", "accounts"),
        sa.Column("openid", sa.String(length=64), nullable=False),
        sa.Column("uid", sa.Integer(), nullable=False),
        sa.Column("first_follow_time", _BIGINT, nullable=True),
        sa.Column("first_follow_id", _BIGINT, nullable=True),
        sa.Column("first_follow_day", sa.Integer(), nullable=True),
        *_channel_ref("first_follow_channel_id"),
        *extra,
        sa.PrimaryKeyConstraint("account_id", "openid", name=op.f("pk_stats_users")),
    )


def _blocks(table: str, column: str, referred: str, with_models: bool) -> None:
    extra = (
        [
            sa.Column("unfollows_last_touch", sa.Integer(), nullable=False),
            sa.Column("follow_scans", sa.Integer(), nullable=False),
        ]
        if with_models
        else []
    )
    op.create_table(
        table,
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("block", sa.Integer(), nullable=False),
        *_owner(table, column, referred),
        sa.Column("scans", sa.Integer(), nullable=False),
        sa.Column("unique_scanners", sa.Integer(), nullable=False),
        sa.Column("new_followers", sa.Integer(), nullable=False),
        sa.Column("returning_followers", sa.Integer(), nullable=False),
        sa.Column("unfollows", sa.Integer(), nullable=False),
        *extra,
        sa.Column("uids", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("level", "block", column, name=op.f(f"pk_{table}")),
    )
    op.create_index(op.f(f"ix_{table}_{column}"), table, [column], unique=False)


def _recreate(new_shape: bool) -> None:
    op.execute("DELETE FROM stats_rollup_state")
    for table, column, _referred in _BLOCKS:
        op.drop_index(op.f(f"ix_{table}_{column}"), table_name=table)
        op.drop_table(table)
    op.drop_table("stats_users")
    _users(new_shape)
    for table, column, referred in _BLOCKS:
        _blocks(table, column, referred, new_shape)


def upgrade() -> None:
    _recreate(True)


def downgrade() -> None:
    _recreate(False)
