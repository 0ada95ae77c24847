"""Work items keep their month, days and size, worked out when they are written, with an index for
the balance's totals and one for its largest items: the balance of 1,000,000 items no longer
computes two dates per item, nor sorts them all to find the 25 largest.

Existing items get them from the same formulas, in SQL.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

BEGUN = "coalesce(started_at, created_at)"
SQLITE = {
    "month": "strftime('%Y-%m', coalesce(closed_at, created_at))",
    "days": f"CASE WHEN closed_at >= {BEGUN} THEN julianday(closed_at) - julianday({BEGUN}) END",
}
POSTGRESQL = {
    "month": "to_char(timezone('UTC', coalesce(closed_at, created_at)), 'YYYY-MM')",
    "days": f"CASE WHEN closed_at >= {BEGUN} THEN extract(epoch FROM closed_at - {BEGUN}) / 86400.0 END",
}


def upgrade() -> None:
    with op.batch_alter_table("work_items") as batch:
        batch.add_column(sa.Column("month", sa.String(7), nullable=True))
        batch.add_column(sa.Column("days", sa.Float(), nullable=True))
        batch.add_column(sa.Column("size", sa.Float(), nullable=True))
    formulas = SQLITE if op.get_bind().dialect.name == "sqlite" else POSTGRESQL
    op.execute(f"UPDATE work_items SET month = {formulas['month']}, days = {formulas['days']}")
    op.execute("UPDATE work_items SET size = coalesce(estimate, 0) * 1000 + coalesce(days, 0)")
    op.create_index("ix_work_items_totals", "work_items", ["workspace_id", "month", "exposure", "estimate", "days"])
    op.create_index("ix_work_items_size", "work_items", ["workspace_id", "size", "id"])


def downgrade() -> None:
    op.drop_index("ix_work_items_size", "work_items")
    op.drop_index("ix_work_items_totals", "work_items")
    with op.batch_alter_table("work_items") as batch:
        batch.drop_column("size")
        batch.drop_column("days")
        batch.drop_column("month")
