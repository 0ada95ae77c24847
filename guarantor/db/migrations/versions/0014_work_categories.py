"""Work items keep the kind of work they are (new work, maintenance, bugs, chores), read from their
labels and issue type when they are written, with an index for the balance's totals by kind.

Existing items get it from the same rule (``guarantor.work.categories``), read in batches.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-08
"""

import json

import sqlalchemy as sa
from alembic import op

from guarantor.work.categories import category

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

BATCH = 10_000


def upgrade() -> None:
    with op.batch_alter_table("work_items") as batch:
        batch.add_column(sa.Column("category", sa.String(16), nullable=True))
    bind = op.get_bind()
    items = sa.table("work_items", sa.column("id"), sa.column("kind"), sa.column("labels"), sa.column("category"))
    last = 0
    while rows := bind.execute(
        sa.select(items.c.id, items.c.kind, items.c.labels).where(items.c.id > last).order_by(items.c.id).limit(BATCH)
    ).all():
        bind.execute(
            items.update().where(items.c.id == sa.bindparam("item")).values(category=sa.bindparam("found")),
            [{"item": i, "found": category(kind or "", json.loads(labels or "[]"))} for i, kind, labels in rows],
        )
        last = rows[-1][0]
    op.create_index("ix_work_items_category", "work_items", ["workspace_id", "category", "estimate", "days"])


def downgrade() -> None:
    op.drop_index("ix_work_items_category", "work_items")
    with op.batch_alter_table("work_items") as batch:
        batch.drop_column("category")
