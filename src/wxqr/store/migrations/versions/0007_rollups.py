"""Stats rollups (issue 17): dense user numbers, day counts, scanner sets, the fold queue.

The tables start empty and no account has a ``stats_rollup_state`` row, so every existing
account is *unbuilt*: its stats are answered from the log (exact, as before) until the
serve's background worker (or ``wxqr stats rebuild``) builds its rollups from the log.
The trigger queues the id of every counted event inserted from now on.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | None = None
depends_on: str | None = None

_BIGINT = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

_TRIGGER = {
    "sqlite": (
        "CREATE TRIGGER stats_pending_on_event AFTER INSERT ON events "
        "WHEN NEW.kind IN ('subscribe_scan', 'scan', 'subscribe', 'unsubscribe') "
        "BEGIN INSERT OR IGNORE INTO stats_pending (event_id) VALUES (NEW.id); END",
    ),
    "postgresql": (
        "CREATE OR REPLACE FUNCTION stats_pending_enqueue() RETURNS trigger "
        "LANGUAGE plpgsql AS $$ BEGIN "
        "INSERT INTO stats_pending (event_id) SELECT id FROM stats_new_events "
        "WHERE kind IN ('subscribe_scan', 'scan', 'subscribe', 'unsubscribe') "
        "ON CONFLICT DO NOTHING; RETURN NULL; END $$",
        "CREATE TRIGGER stats_pending_on_event AFTER INSERT ON events "
        "REFERENCING NEW TABLE AS stats_new_events FOR EACH STATEMENT "
        "EXECUTE FUNCTION stats_pending_enqueue()",
    ),
}
_DROP = {
    "sqlite": ("DROP TRIGGER IF EXISTS stats_pending_on_event",),
    "postgresql": (
        "DROP TRIGGER IF EXISTS stats_pending_on_event ON events",
        "DROP FUNCTION IF EXISTS stats_pending_enqueue()",
    ),
}


def _owner(
    table: str, column: str, referred: str
) -> list[sa.Column[int] | sa.ForeignKeyConstraint]:
    return [
        sa.Column(column, sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            [column],
            [f"{referred}.id"],
            name=op.f(f"fk_{table}_{column}_{referred}"),
            ondelete="CASCADE",
        ),
    ]


def _blocks(table: str, column: str, referred: str) -> None:
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
        sa.Column("uids", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("level", "block", column, name=op.f(f"pk_{table}")),
    )
    op.create_index(op.f(f"ix_{table}_{column}"), table, [column], unique=False)


def upgrade() -> None:
    op.create_table(
        "stats_users",
        *_owner("stats_users", "account_id", "accounts"),
        sa.Column("openid", sa.String(length=64), nullable=False),
        sa.Column("uid", sa.Integer(), nullable=False),
        sa.Column("first_follow_time", _BIGINT, nullable=True),
        sa.Column("first_follow_id", _BIGINT, nullable=True),
        sa.Column("first_follow_day", sa.Integer(), nullable=True),
        sa.Column("first_follow_channel_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["first_follow_channel_id"],
            ["channels.id"],
            name=op.f("fk_stats_users_first_follow_channel_id_channels"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("account_id", "openid", name=op.f("pk_stats_users")),
    )
    op.create_table(
        "stats_pending",
        sa.Column("event_id", _BIGINT, autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_stats_pending")),
    )
    op.create_table(
        "stats_rollup_state",
        *_owner("stats_rollup_state", "account_id", "accounts"),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("next_uid", sa.Integer(), nullable=False),
        sa.Column("built_at", _BIGINT, nullable=False),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_stats_rollup_state")),
    )
    _blocks("stats_account_blocks", "account_id", "accounts")
    _blocks("stats_channel_blocks", "channel_id", "channels")
    for statement in _TRIGGER.get(op.get_bind().dialect.name, ()):
        op.execute(statement)


def downgrade() -> None:
    for statement in _DROP.get(op.get_bind().dialect.name, ()):
        op.execute(statement)
    op.drop_index(op.f("ix_stats_channel_blocks_channel_id"), table_name="stats_channel_blocks")
    op.drop_index(op.f("ix_stats_account_blocks_account_id"), table_name="stats_account_blocks")
    for table in (
        "stats_channel_blocks",
        "stats_account_blocks",
        "stats_rollup_state",
        "stats_pending",
        "stats_users",
    ):
        op.drop_table(table)
