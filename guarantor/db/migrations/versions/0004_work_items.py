"""Work items and link decisions.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op

from guarantor.db.base import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "work_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("external_id", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("state", sa.String(60), nullable=False),
        sa.Column("closed", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=True),
        sa.Column("started_at", UTCDateTime(), nullable=True),
        sa.Column("closed_at", UTCDateTime(), nullable=True),
        sa.Column("labels", sa.Text(), nullable=False),
        sa.Column("assignee", sa.String(200), nullable=True),
        sa.Column("estimate", sa.Float(), nullable=True),
        sa.Column("epic", sa.String(300), nullable=True),
        sa.Column("components", sa.Text(), nullable=False),
        sa.Column("url", sa.String(1000), nullable=True),
        sa.Column("links", sa.Text(), nullable=False),
        sa.Column("exposure", sa.String(2), nullable=True),
        sa.Column("content_hash", sa.String(32), nullable=False),
        sa.Column("imported_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_items")),
        sa.UniqueConstraint("source", "external_id", name="uq_work_items_source"),
    )
    op.create_index("ix_work_items_closed_at", "work_items", ["closed_at"])
    op.create_table(
        "link_decisions",
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("external_id", sa.String(200), nullable=False),
        sa.Column("outcome_id", sa.String(64), nullable=False),
        sa.Column("decision", sa.String(8), nullable=False),
        sa.Column("decided_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("source", "external_id", "outcome_id", name=op.f("pk_link_decisions")),
    )


def downgrade() -> None:
    op.drop_table("link_decisions")
    op.drop_index("ix_work_items_closed_at", table_name="work_items")
    op.drop_table("work_items")
