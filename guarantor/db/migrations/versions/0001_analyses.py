"""Saved analyses and their per-person figures.

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op

from guarantor.db.base import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "analyses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("workspace_name", sa.String(200), nullable=False),
        sa.Column("workspace_path", sa.String(1000), nullable=False),
        sa.Column("workspace_hash", sa.String(64), nullable=False),
        sa.Column("model_version", sa.String(100), nullable=False),
        sa.Column("hours_week", sa.Float(), nullable=False),
        sa.Column("hours_freed", sa.Float(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analyses")),
    )
    op.create_index(op.f("ix_analyses_created_at"), "analyses", ["created_at"])
    op.create_index(op.f("ix_analyses_workspace_name"), "analyses", ["workspace_name"])
    op.create_table(
        "analysis_people",
        sa.Column("analysis_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.String(64), nullable=False),
        sa.Column("role", sa.String(300), nullable=False),
        sa.Column("hours_week", sa.Float(), nullable=False),
        sa.Column("hours_freed", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["analysis_id"],
            ["analyses.id"],
            ondelete="CASCADE",
            name=op.f("fk_analysis_people_analysis_id_analyses"),
        ),
        sa.PrimaryKeyConstraint("analysis_id", "person_id", name=op.f("pk_analysis_people")),
    )


def downgrade() -> None:
    op.drop_table("analysis_people")
    op.drop_index(op.f("ix_analyses_workspace_name"), table_name="analyses")
    op.drop_index(op.f("ix_analyses_created_at"), table_name="analyses")
    op.drop_table("analyses")
