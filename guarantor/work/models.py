"""Work items imported from trackers, and a person's decisions on which outcome each serves.

Decisions are a table of their own, keyed on the item's source and external id, so no re-import
(which rewrites items) can touch them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from guarantor.db.base import Base, UTCDateTime
from guarantor.db.scope import Scoped, ScopedKey, ScopedRow


class WorkItem(ScopedRow, Base):
    __tablename__ = "work_items"
    __table_args__ = (
        UniqueConstraint("workspace_id", "source", "external_id", name="uq_work_items_source"),
        Index("ix_work_items_closed_at", "workspace_id", "closed_at"),
        Index("ix_work_items_totals", "workspace_id", "month", "exposure", "estimate", "days"),
        Index("ix_work_items_size", "workspace_id", "size", "id"),
        Index("ix_work_items_category", "workspace_id", "category", "estimate", "days"),
        Index(
            "ix_work_items_unclassified",
            "workspace_id",
            "id",
            sqlite_where=text("exposure IS NULL"),
            postgresql_where=text("exposure IS NULL"),
        ),
    )

    source: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(60))
    closed: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    labels: Mapped[str] = mapped_column(Text)  # JSON list
    assignee: Mapped[str | None] = mapped_column(String(200))
    estimate: Mapped[float | None] = mapped_column(Float)
    epic: Mapped[str | None] = mapped_column(String(300))
    sprint: Mapped[str | None] = mapped_column(String(300))
    components: Mapped[str] = mapped_column(Text)  # JSON list
    url: Mapped[str | None] = mapped_column(String(1000))
    links: Mapped[str] = mapped_column(Text)  # JSON list of external ids
    exposure: Mapped[str | None] = mapped_column(String(2))  # E0/E1/E2 of the title, when the model ran
    content_hash: Mapped[str] = mapped_column(String(32))
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Worked out from the fields above when the item is written (``repository.derived``), so the
    # balance adds them up from an index instead of computing dates for every item it reads:
    month: Mapped[str | None] = mapped_column(String(7))  # YYYY-MM (UTC) of the close, else of the creation
    days: Mapped[float | None] = mapped_column(Float)  # start (or creation) to close, of a closed item
    size: Mapped[float | None] = mapped_column(Float)  # points * 1000 + days: the largest items come first
    category: Mapped[str | None] = mapped_column(String(16))  # new work, maintenance, bugs, chores (``categories``)


class WorkLink(Scoped, Base):
    """Which outcomes each item serves, as the workspace's rules and people's decisions say
    (``work.service.Linker``), kept so that the balance is added up in the database. Written for
    the items an import brings, for an item a decision is made on, and for every item when the
    rules change (``WorkspaceRecord.links_rules`` names the rules they were made with)."""

    __tablename__ = "work_links"
    __table_args__ = (Index("ix_work_links_outcome", "workspace_id", "outcome_id"),)

    item_id: Mapped[int] = mapped_column(ForeignKey("work_items.id", ondelete="CASCADE"), primary_key=True)
    outcome_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    share: Mapped[float] = mapped_column(Float)  # 1 / the outcomes the item serves: its points and days are split


class LinkDecision(ScopedKey, Base):
    __tablename__ = "link_decisions"

    source: Mapped[str] = mapped_column(String(16), primary_key=True)
    external_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    outcome_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    decision: Mapped[str] = mapped_column(String(8))  # accepted | rejected
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SyncState(ScopedKey, Base):
    """Where the last sync of one tracker scope (a repository) got to: the newest update it stored.
    Written in the same transaction as each page's items, so a killed sync resumes from the last
    page it finished, and re-reads at most that page."""

    __tablename__ = "sync_states"

    source: Mapped[str] = mapped_column(String(16), primary_key=True)
    scope: Mapped[str] = mapped_column(String(300), primary_key=True)
    cursor: Mapped[str] = mapped_column(String(64))  # the tracker's own "updated at" of the newest item stored
    synced_at: Mapped[datetime] = mapped_column(UTCDateTime)
