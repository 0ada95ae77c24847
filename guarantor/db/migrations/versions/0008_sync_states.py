"""Sync states: how far the last live sync of each tracker scope got; the sprint of each work item.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

from guarantor.db.base import UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sync_states",
        sa.Column("source", sa.String(16), primary_key=True),
        sa.Column("scope", sa.String(300), primary_key=True),
        sa.Column("cursor", sa.String(64), nullable=False),
        sa.Column("synced_at", UTCDateTime(), nullable=False),
    )
    with op.batch_alter_table("work_items") as batch:
        batch.add_column(sa.Column("sprint", sa.String(300), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("work_items") as batch:
        batch.drop_column("sprint")
    op.drop_table("sync_states")
