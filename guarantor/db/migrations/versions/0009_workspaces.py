"""Workspaces: every row of workspace data belongs to one; roles are per workspace.

An existing database keeps its history. Each workspace file it knew (by the paths in its
revisions and analyses) becomes a workspace, unclaimed until that file is next read, which gives
it its key; a database that never recorded a path gets one unclaimed workspace, taken by the
first file read. Rows that name their file (revisions, analyses) go to its workspace. With
several workspaces, rows keyed by an outcome go to the workspace whose latest file has that
outcome, and the rest (work items, sync states, and outcomes no file has) to the workspace used
last. Each user keeps their role in every workspace the database knew.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
import yaml
from alembic import op

from guarantor.db.base import UTCDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

# table -> (primary key after, unique constraint after, indexes to rebuild with the workspace first)
SCOPED: dict[str, tuple[list[str] | None, tuple[str, list[str]] | None, dict[str, list[str]]]] = {
    "workspace_revisions": (None, None, {"ix_workspace_revisions_path": ["workspace_id", "id"]}),
    "analyses": (None, None, {"ix_analyses_workspace": ["workspace_id", "id"]}),
    "measurements": (
        None,
        ("uq_measurements_slot", ["workspace_id", "indicator_id", "spec_hash", "scheduled_at"]),
        {"ix_measurements_indicator_time": ["workspace_id", "indicator_id", "measured_at"]},
    ),
    "claims": (["workspace_id", "indicator_id", "spec_hash", "scheduled_at"], None, {}),
    "outcome_states": (["workspace_id", "outcome_id"], None, {}),
    "alerts": (None, ("uq_alerts_episode", ["workspace_id", "outcome_id", "channel", "event", "episode"]), {}),
    "work_items": (
        None,
        ("uq_work_items_source", ["workspace_id", "source", "external_id"]),
        {"ix_work_items_closed_at": ["workspace_id", "closed_at"]},
    ),
    "link_decisions": (["workspace_id", "source", "external_id", "outcome_id"], None, {}),
    "sync_states": (["workspace_id", "source", "scope"], None, {}),
}
OLD_INDEXES = {
    "workspace_revisions": ["ix_workspace_revisions_path"],
    "measurements": ["ix_measurements_indicator_time", "ix_measurements_outcome_id"],
    "work_items": ["ix_work_items_closed_at"],
}


def _outcomes(text: str) -> set[str]:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return set()
    outcomes = data.get("outcomes") if isinstance(data, dict) else None
    return {str(o["id"]) for o in outcomes or [] if isinstance(o, dict) and "id" in o}


def _name(text: str) -> str | None:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return None
    name = data.get("name") if isinstance(data, dict) else None
    return str(name)[:200] if name else None


def _attribute(conn: sa.Connection) -> None:
    """Create the workspaces the database knew and give every existing row one of them."""
    seen: dict[str, list[Any]] = {}  # path -> [name, last activity]
    for path, text, at in conn.execute(sa.text("SELECT path, text, created_at FROM workspace_revisions ORDER BY id")):
        entry = seen.setdefault(path, [None, at])
        entry[0], entry[1] = _name(text) or entry[0], max(entry[1], at)
    for path, name, at in conn.execute(
        sa.text("SELECT workspace_path, workspace_name, created_at FROM analyses ORDER BY id")
    ):
        entry = seen.setdefault(path, [None, at])
        entry[0], entry[1] = entry[0] or name, max(entry[1], at)
    has_data = (
        any(conn.execute(sa.text(f"SELECT 1 FROM {table} LIMIT 1")).first() for table in SCOPED)
        or conn.execute(sa.text("SELECT 1 FROM users LIMIT 1")).first()
    )
    if not seen and not has_data:
        return
    ids: dict[str | None, int] = {}
    rows: list[tuple[str | None, list[Any]]] = [*sorted(seen.items(), key=lambda kv: str(kv[1][1]))]
    rows = rows or [(None, ["Upgraded workspace", None])]
    for path, (name, _at) in rows:
        conn.execute(
            sa.text(
                "INSERT INTO workspaces (key, name, path, created_at, outcomes, guaranteed, systems) "
                "VALUES (NULL, :name, :path, :now, 0, 0, 0)"
            ).bindparams(sa.bindparam("now", type_=UTCDateTime())),
            {"name": name or "Upgraded workspace", "path": path, "now": datetime.now(UTC)},
        )
        ids[path] = conn.execute(sa.text("SELECT max(id) FROM workspaces")).scalar_one()
    last = ids[rows[-1][0]]  # the workspace used last takes what no file names
    for path, wid in ids.items():
        if path is not None:
            conn.execute(
                sa.text("UPDATE workspace_revisions SET workspace_id = :w WHERE path = :p"), {"w": wid, "p": path}
            )
            conn.execute(
                sa.text("UPDATE analyses SET workspace_id = :w WHERE workspace_path = :p"), {"w": wid, "p": path}
            )
    if len(ids) > 1:
        for path, wid in ids.items():
            latest = conn.execute(
                sa.text("SELECT text FROM workspace_revisions WHERE path = :p ORDER BY id DESC LIMIT 1"), {"p": path}
            ).first()
            for outcome in sorted(_outcomes(latest[0]) if latest else set()):
                for table in ("measurements", "outcome_states", "alerts", "link_decisions"):
                    conn.execute(
                        sa.text(f"UPDATE {table} SET workspace_id = :w WHERE outcome_id = :o AND workspace_id IS NULL"),
                        {"w": wid, "o": outcome},
                    )
    for table in SCOPED:
        conn.execute(sa.text(f"UPDATE {table} SET workspace_id = :w WHERE workspace_id IS NULL"), {"w": last})
    for wid in ids.values():  # the organisation view's count of each workspace's items
        counts = conn.execute(
            sa.text("SELECT exposure, count(*), max(imported_at) FROM work_items WHERE workspace_id = :w GROUP BY 1"),
            {"w": wid},
        ).all()
        if counts:
            conn.execute(
                sa.text("UPDATE workspaces SET items_by_exposure = :c, last_import_at = :at WHERE id = :w").bindparams(
                    sa.bindparam("c", type_=sa.JSON()), sa.bindparam("at", type_=UTCDateTime())
                ),
                {"c": {e or "unknown": n for e, n, _ in counts}, "at": _aware(max(at for *_, at in counts)), "w": wid},
            )
    conn.execute(sa.text("DELETE FROM claims"))  # a claim is a run's lease; no run survives an upgrade
    for user_id, role in conn.execute(sa.text("SELECT id, role FROM users")).all():
        for wid in ids.values():
            conn.execute(
                sa.text("INSERT INTO memberships (user_id, workspace_id, role) VALUES (:u, :w, :r)"),
                {"u": user_id, "w": wid, "r": role},
            )


def _aware(value: Any) -> datetime:
    """A stored time as SQLite (text) or PostgreSQL (aware) gives it back, as an aware UTC time."""
    moment: datetime = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def upgrade() -> None:
    op.create_table(
        "workspaces",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(64), nullable=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("path", sa.String(1000), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("outcomes", sa.Integer(), nullable=False),
        sa.Column("guaranteed", sa.Integer(), nullable=False),
        sa.Column("systems", sa.Integer(), nullable=False),
        sa.Column("systems_blocked", sa.Integer(), nullable=True),
        sa.Column("work_items", sa.Integer(), nullable=True),
        sa.Column("orphan_items", sa.Integer(), nullable=True),
        sa.Column("balanced_at", UTCDateTime(), nullable=True),
        sa.Column("items_by_exposure", sa.JSON(), nullable=True),
        sa.Column("last_import_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workspaces")),
        sa.UniqueConstraint("key", name=op.f("uq_workspaces_key")),
    )
    op.create_table(
        "memberships",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(8), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_memberships_user_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspaces.id"], name=op.f("fk_memberships_workspace_id_workspaces"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "workspace_id", name=op.f("pk_memberships")),
    )
    for table, names in OLD_INDEXES.items():
        for name in names:
            op.drop_index(name, table_name=table)
    for table in SCOPED:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("workspace_id", sa.Integer(), nullable=True))
    _attribute(op.get_bind())
    for table, (primary, unique, indexes) in SCOPED.items():
        with op.batch_alter_table(table) as batch:
            batch.alter_column("workspace_id", existing_type=sa.Integer(), nullable=False)
            batch.create_foreign_key(
                f"fk_{table}_workspace_id_workspaces", "workspaces", ["workspace_id"], ["id"], ondelete="CASCADE"
            )
            if primary is not None:
                batch.drop_constraint(f"pk_{table}", type_="primary")
                batch.create_primary_key(f"pk_{table}", primary)
            if unique is not None:
                batch.drop_constraint(unique[0], type_="unique")
                batch.create_unique_constraint(*unique)
        for name, columns in indexes.items():
            op.create_index(name, table, columns)
    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(sa.Column("workspace_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_api_tokens_workspace_id_workspaces", "workspaces", ["workspace_id"], ["id"], ondelete="CASCADE"
        )
    with op.batch_alter_table("users") as batch:
        batch.drop_column("role")


def downgrade() -> None:
    raise NotImplementedError("workspaces cannot be merged back into one database's worth of rows")
