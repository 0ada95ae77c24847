"""The only place that queries saved analyses (of the session's workspace: ``guarantor.db.scope``)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
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


def get(session: Session, analysis_id: int) -> AnalysisRecord | None:
    return session.scalars(select(AnalysisRecord).where(AnalysisRecord.id == analysis_id)).first()
