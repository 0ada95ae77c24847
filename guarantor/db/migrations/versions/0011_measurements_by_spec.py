"""An index for outcome states: each indicator's measurements of its current spec by time, with
their status, so the error budget's tallies are counted from the index alone (1,000 indicators
over 672,000 measurements: 1.8 s without it, 0.8 s with it).

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-24
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_measurements_spec_time",
        "measurements",
        ["workspace_id", "indicator_id", "spec_hash", "measured_at", "status"],
    )


def downgrade() -> None:
    op.drop_index("ix_measurements_spec_time", "measurements")
