"""Workspaces, and every version of each workspace's file the web app has seen or written.

A workspace is known by the key its file states (``key:``, else its name made a slug), not by
the file's path: a repository moved or cloned keeps its history. The YAML file stays the source
of truth; revisions are its history in the database, with who changed what from the browser, and
what lets several server processes agree on the current version without each reparsing the file.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from guarantor.db.base import Base, UTCDateTime
from guarantor.db.scope import ScopedRow


class WorkspaceRecord(Base):
    """One workspace; the counts are facts the organisation view adds up, kept current by whoever
    computes them (the file's outcomes and systems when it is read, the balance when it runs)."""

    __tablename__ = "workspaces"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str | None] = mapped_column(String(64), unique=True)  # None: from an upgraded database, unclaimed
    name: Mapped[str] = mapped_column(String(200))
    path: Mapped[str | None] = mapped_column(String(1000))  # where its file was last read
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    outcomes: Mapped[int] = mapped_column(Integer, default=0)
    guaranteed: Mapped[int] = mapped_column(Integer, default=0)  # outcomes with a guarantee
    systems: Mapped[int] = mapped_column(Integer, default=0)
    systems_blocked: Mapped[int | None] = mapped_column(Integer)  # systems not ready to retire, at the last check
    work_items: Mapped[int | None] = mapped_column(Integer)  # items the last balance counted
    orphan_items: Mapped[int | None] = mapped_column(Integer)  # of which no outcome served
    balanced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    items_by_exposure: Mapped[dict[str, int] | None] = mapped_column(JSON)  # counted after each import or sync
    last_import_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    links_rules: Mapped[str | None] = mapped_column(String(64))  # the link rules work_links were made with


class WorkspaceRevision(ScopedRow, Base):
    __tablename__ = "workspace_revisions"
    __table_args__ = (Index("ix_workspace_revisions_path", "workspace_id", "id"),)

    path: Mapped[str] = mapped_column(String(1000))  # the workspace file's absolute path
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    origin: Mapped[str] = mapped_column(String(8))  # file (read from disk) | web | api
    author: Mapped[str | None] = mapped_column(String(64))
    sha256: Mapped[str] = mapped_column(String(64))  # of the text, to see when the file changed
    text: Mapped[str] = mapped_column(Text)
