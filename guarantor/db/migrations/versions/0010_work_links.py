"""Work links: the outcomes each work item serves, kept so the balance is added up in the database.

Existing databases get the table empty and no rules recorded on their workspaces, so the first
balance of each links all its items.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "work_links",
        sa.Column("workspace_id", sa.Integer(), sa.ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=False),
        sa.Column("item_id", sa.Integer(), sa.ForeignKey("work_items.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("outcome_id", sa.String(64), primary_key=True),
        sa.Column("share", sa.Float(), nullable=False),
    )
    op.create_index("ix_work_links_outcome", "work_links", ["workspace_id", "outcome_id"])
    with op.batch_alter_table("workspaces") as batch:
        batch.add_column(sa.Column("links_rules", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("workspaces") as batch:
        batch.drop_column("links_rules")
    op.drop_index("ix_work_links_outcome", "work_links")
    op.drop_table("work_links")
