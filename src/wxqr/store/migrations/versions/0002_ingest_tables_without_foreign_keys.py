"""The tables the webhook writes on every push (events, followers) lose their foreign keys.

On PostgreSQL each foreign key is a trigger run for every inserted row (a lookup and a
share lock on the referenced row): the six of them cost about a third of the ingest
throughput. The referenced rows are never deleted while anything can point at them; see
ADR 0004. On SQLite the tables are rebuilt (Alembic's batch mode copies their rows).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

from __future__ import annotations

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None

# (table, constraint name, referenced table, local column, ON DELETE) as 0001 made them.
_FOREIGN_KEYS = (
    ("events", "fk_events_account_id_accounts", "accounts", "account_id", "CASCADE"),
    ("events", "fk_events_scene_ref_scenes", "scenes", "scene_ref", "SET NULL"),
    ("events", "fk_events_channel_id_channels", "channels", "channel_id", "SET NULL"),
    ("followers", "fk_followers_account_id_accounts", "accounts", "account_id", "CASCADE"),
    (
        "followers",
        "fk_followers_first_channel_id_channels",
        "channels",
        "first_channel_id",
        "SET NULL",
    ),
    (
        "followers",
        "fk_followers_last_channel_id_channels",
        "channels",
        "last_channel_id",
        "SET NULL",
    ),
)


def upgrade() -> None:
    for table in ("events", "followers"):
        with op.batch_alter_table(table) as batch:
            for owner, name, _referred, _column, _ondelete in _FOREIGN_KEYS:
                if owner == table:
                    batch.drop_constraint(name, type_="foreignkey")


def downgrade() -> None:
    for table in ("events", "followers"):
        with op.batch_alter_table(table) as batch:
            for owner, name, referred, column, ondelete in _FOREIGN_KEYS:
                if owner == table:
                    batch.create_foreign_key(name, referred, [column], ["id"], ondelete=ondelete)
