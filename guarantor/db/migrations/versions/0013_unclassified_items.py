"""Items without an AI exposure are found from an index of their own, holding only them: every
import ends by classifying those an earlier import left without one, and finding none among
1,000,000 items read every item (1.5 s) where the index answers at once.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

UNCLASSIFIED = sa.text("exposure IS NULL")


def upgrade() -> None:
    op.create_index(
        "ix_work_items_unclassified",
        "work_items",
        ["workspace_id", "id"],
        sqlite_where=UNCLASSIFIED,
        postgresql_where=UNCLASSIFIED,
    )


def downgrade() -> None:
    op.drop_index("ix_work_items_unclassified", "work_items")
