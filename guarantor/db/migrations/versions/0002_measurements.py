"""Measurements of guarantee indicators, and claims on scheduled slots.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op

from guarantor.db.base import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "measurements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("outcome_id", sa.String(64), nullable=False),
        sa.Column("indicator_id", sa.String(64), nullable=False),
        sa.Column("spec_hash", sa.String(16), nullable=False),
        sa.Column("scheduled_at", UTCDateTime(), nullable=False),
        sa.Column("measured_at", UTCDateTime(), nullable=False),
        sa.Column("value", sa.String(60), nullable=True),
        sa.Column("value_at", UTCDateTime(), nullable=True),
        sa.Column("unit", sa.String(32), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("target", sa.String(100), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("trigger", sa.String(10), nullable=False),
        sa.Column("duration_ms", sa.Float(), nullable=False),
        sa.Column("tool_version", sa.String(20), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_measurements")),
        sa.UniqueConstraint("indicator_id", "spec_hash", "scheduled_at", name="uq_measurements_slot"),
    )
    op.create_index("ix_measurements_indicator_time", "measurements", ["indicator_id", "measured_at"])
    op.create_index(op.f("ix_measurements_outcome_id"), "measurements", ["outcome_id"])
    op.create_table(
        "claims",
        sa.Column("indicator_id", sa.String(64), nullable=False),
        sa.Column("spec_hash", sa.String(16), nullable=False),
        sa.Column("scheduled_at", UTCDateTime(), nullable=False),
        sa.Column("owner", sa.String(200), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("indicator_id", "spec_hash", "scheduled_at", name=op.f("pk_claims")),
    )


def downgrade() -> None:
    op.drop_table("claims")
    op.drop_index(op.f("ix_measurements_outcome_id"), table_name="measurements")
    op.drop_index("ix_measurements_indicator_time", table_name="measurements")
    op.drop_table("measurements")
