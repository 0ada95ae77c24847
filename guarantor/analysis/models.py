"""Saved analyses, so a person can see their role shift from one analysis to the next."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from guarantor.db.base import Base, UTCDateTime
from guarantor.db.scope import ScopedRow


class AnalysisRecord(ScopedRow, Base):
    __tablename__ = "analyses"
    __table_args__ = (Index("ix_analyses_workspace", "workspace_id", "id"),)

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    workspace_name: Mapped[str] = mapped_column(String(200), index=True)
    workspace_path: Mapped[str] = mapped_column(String(1000))
    workspace_hash: Mapped[str] = mapped_column(String(64))
    model_version: Mapped[str] = mapped_column(String(100))
    hours_week: Mapped[float] = mapped_column(Float)
    hours_freed: Mapped[float] = mapped_column(Float)
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    people: Mapped[list[AnalysisPersonRecord]] = relationship(
        back_populates="analysis", cascade="all, delete-orphan", order_by="AnalysisPersonRecord.person_id"
    )


class AnalysisPersonRecord(Base):
    __tablename__ = "analysis_people"

    analysis_id: Mapped[int] = mapped_column(ForeignKey("analyses.id", ondelete="CASCADE"), primary_key=True)
    person_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    role: Mapped[str] = mapped_column(String(300))
    hours_week: Mapped[float] = mapped_column(Float)
    hours_freed: Mapped[float] = mapped_column(Float)
    analysis: Mapped[AnalysisRecord] = relationship(back_populates="people")
