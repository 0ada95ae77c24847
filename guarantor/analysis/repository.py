"""The only place that queries saved analyses (of the session's workspace: ``guarantor.db.scope``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from guarantor.analysis.models import AnalysisRecord


def add(session: Session, record: AnalysisRecord) -> AnalysisRecord:
    session.add(record)
    session.flush()
    return record


def latest(session: Session) -> AnalysisRecord | None:
    return session.scalars(
        select(AnalysisRecord)
        .options(selectinload(AnalysisRecord.people))
        .order_by(AnalysisRecord.created_at.desc(), AnalysisRecord.id.desc())
        .limit(1)
    ).first()


def history(session: Session, limit: int = 50) -> Sequence[AnalysisRecord]:
    query = select(AnalysisRecord).options(selectinload(AnalysisRecord.people))
    return session.scalars(
        query.order_by(AnalysisRecord.created_at.desc(), AnalysisRecord.id.desc()).limit(limit)
    ).all()


def last_id(session: Session) -> int:
    """The newest saved analysis's id: it changes whenever one is saved, from any process."""
    return session.scalar(select(func.max(AnalysisRecord.id))) or 0


def get(session: Session, analysis_id: int) -> AnalysisRecord | None:
    return session.scalars(select(AnalysisRecord).where(AnalysisRecord.id == analysis_id)).first()


def latest_of(session: Session, workspace_ids: Sequence[int]) -> list[tuple[int, float, float, datetime]]:
    """Each workspace's latest analysis: (workspace id, hours a week, hours freed, when); read across
    workspaces (the organisation view)."""
    latest = (
        select(func.max(AnalysisRecord.id))
        .where(AnalysisRecord.workspace_id.in_(workspace_ids))
        .group_by(AnalysisRecord.workspace_id)
        .scalar_subquery()
    )
    query = select(
        AnalysisRecord.workspace_id, AnalysisRecord.hours_week, AnalysisRecord.hours_freed, AnalysisRecord.created_at
    ).where(AnalysisRecord.id.in_(latest))
    return [(int(w), float(h), float(f), at) for w, h, f, at in session.execute(query)]
