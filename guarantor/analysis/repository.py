"""The only place that queries saved analyses."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from guarantor.analysis.models import AnalysisRecord


def add(session: Session, record: AnalysisRecord) -> AnalysisRecord:
    session.add(record)
    session.flush()
    return record


def latest(session: Session, workspace_name: str) -> AnalysisRecord | None:
    return session.scalars(
        select(AnalysisRecord)
        .where(AnalysisRecord.workspace_name == workspace_name)
        .options(selectinload(AnalysisRecord.people))
        .order_by(AnalysisRecord.created_at.desc(), AnalysisRecord.id.desc())
        .limit(1)
    ).first()


def history(session: Session, workspace_name: str | None = None, limit: int = 50) -> Sequence[AnalysisRecord]:
    query = select(AnalysisRecord).options(selectinload(AnalysisRecord.people))
    if workspace_name:
        query = query.where(AnalysisRecord.workspace_name == workspace_name)
    return session.scalars(
        query.order_by(AnalysisRecord.created_at.desc(), AnalysisRecord.id.desc()).limit(limit)
    ).all()


def get(session: Session, analysis_id: int) -> AnalysisRecord | None:
    return session.get(AnalysisRecord, analysis_id)
