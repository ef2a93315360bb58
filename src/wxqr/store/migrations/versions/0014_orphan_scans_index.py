"""A partial index for the orphan scans of a window (issue 18, "Fast").

Revision ID: 0014
Revises: 0011
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    orphan = sa.column("orphan", sa.Boolean()).is_(sa.true())
    op.create_index(
        "ix_events_orphan_scans",
        "events",
        ["account_id", "create_time"],
        sqlite_where=orphan,
        postgresql_where=orphan,
    )


def downgrade() -> None:
    op.drop_index("ix_events_orphan_scans", table_name="events")
