"""Secrets at rest: room for encrypted secrets on PostgreSQL.

With ``WXQR_SECRET_KEY`` the accounts' token, app secret and AES key and the cached access
tokens are stored as ``enc:v1:`` + a Fernet token, longer than the plaintext columns
allowed. PostgreSQL enforces VARCHAR lengths, so they are widened (a catalogue-only change
there). SQLite never enforces them, and changing a declared type there would rebuild
``accounts``, whose DROP cascades to its channels: nothing changes on SQLite (the table
definitions say the same, see ``_secret_column_type`` in wxqr.store.tables).

Revision ID: 0005
Revises: 0001
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None

# (table, column, plaintext length, length with room for the encrypted form)
_WIDENED = (
    ("accounts", "token", 128, 512),
    ("accounts", "app_secret", 256, 1024),
    ("accounts", "aes_key", 64, 256),
    ("access_tokens", "token", 512, 1024),
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, column, before, after in _WIDENED:
        op.alter_column(
            table, column, type_=sa.String(length=after), existing_type=sa.String(length=before)
        )


def downgrade() -> None:
    # Fails if an encrypted value is stored: decrypt first (unset WXQR_SECRET_KEY is not
    # enough; the values must be written in plaintext again).
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, column, before, after in _WIDENED:
        op.alter_column(
            table, column, type_=sa.String(length=before), existing_type=sa.String(length=after)
        )
