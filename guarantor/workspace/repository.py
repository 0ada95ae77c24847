"""Every query on workspace revisions."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from guarantor.workspace.models import WorkspaceRevision


def latest(session: Session, path: str) -> WorkspaceRevision | None:
    return session.scalars(
        select(WorkspaceRevision).where(WorkspaceRevision.path == path).order_by(WorkspaceRevision.id.desc()).limit(1)
    ).first()


def latest_id(session: Session, path: str) -> int | None:
    return session.scalar(
        select(WorkspaceRevision.id)
        .where(WorkspaceRevision.path == path)
        .order_by(WorkspaceRevision.id.desc())
        .limit(1)
    )


def get(session: Session, revision_id: int) -> WorkspaceRevision | None:
    return session.get(WorkspaceRevision, revision_id)


def history(session: Session, path: str, limit: int = 50) -> Sequence[WorkspaceRevision]:
    return session.scalars(
        select(WorkspaceRevision)
        .where(WorkspaceRevision.path == path)
        .order_by(WorkspaceRevision.id.desc())
        .limit(limit)
    ).all()


def add(session: Session, revision: WorkspaceRevision) -> WorkspaceRevision:
    session.add(revision)
    session.flush()
    return revision
