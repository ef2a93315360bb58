"""Temporary-code lifecycle and WeChat quotas (issue 19 §1-2): renewal settings per
channel, what happened to codes near their end, wxqr's own daily count of API calls.

Revision ID: 0009
Revises: 0006
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | None = None
depends_on: str | None = None

_BIGINT = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "channel_renewals",
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("auto_renew", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("lead_seconds", sa.Integer(), nullable=True),
        sa.Column("updated_at", _BIGINT, nullable=False),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["channels.id"],
            name=op.f("fk_channel_renewals_channel_id_channels"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("channel_id", name=op.f("pk_channel_renewals")),
    )
    op.create_index(
        op.f("ix_scenes_qr_kind_expires_at"), "scenes", ["qr_kind", "expires_at"], unique=False
    )
    op.create_table(
        "code_lifecycle",
        sa.Column("scene_ref", sa.Integer(), nullable=False),
        sa.Column("renewed_to", sa.Integer(), nullable=True),
        sa.Column("renewed_at", _BIGINT, nullable=True),
        sa.Column("expiring_sent_at", _BIGINT, nullable=True),
        sa.ForeignKeyConstraint(
            ["scene_ref"],
            ["scenes.id"],
            name=op.f("fk_code_lifecycle_scene_ref_scenes"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["renewed_to"],
            ["scenes.id"],
            name=op.f("fk_code_lifecycle_renewed_to_scenes"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("scene_ref", name=op.f("pk_code_lifecycle")),
    )
    op.create_table(
        "wechat_quota_usage",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("cgi_path", sa.String(length=64), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("used", sa.Integer(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_wechat_quota_usage_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "account_id", "cgi_path", "day", name=op.f("pk_wechat_quota_usage")
        ),
    )


def downgrade() -> None:
    op.drop_table("wechat_quota_usage")
    op.drop_table("code_lifecycle")
    op.drop_table("channel_renewals")
    op.drop_index(op.f("ix_scenes_qr_kind_expires_at"), table_name="scenes")
