"""Every query on workspaces and their revisions. Revisions are scoped: a session sees those of
the workspace it entered (``guarantor.db.scope``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from guarantor.db import scope
from guarantor.workspace.models import WorkspaceRecord, WorkspaceRevision


def by_key(session: Session, key: str) -> WorkspaceRecord | None:
    return session.scalars(select(WorkspaceRecord).where(WorkspaceRecord.key == key)).first()


def unclaimed(session: Session, path: str, name: str) -> WorkspaceRecord | None:
    """A workspace an upgraded database knew, not yet read under the new release: by the file's
    path, else (the file moved) by its name, else the one a database that never recorded a path gets."""
    rows = session.scalars(select(WorkspaceRecord).where(WorkspaceRecord.key.is_(None))).all()
    for found in (
        (r for r in rows if r.path == path),
        (r for r in rows if r.name == name),
        (r for r in rows if r.path is None),
    ):
        record = next(found, None)
        if record is not None:
            return record
    return None


def records(session: Session, ids: Sequence[int] | None = None) -> Sequence[WorkspaceRecord]:
    query = select(WorkspaceRecord).order_by(WorkspaceRecord.name, WorkspaceRecord.id)
    if ids is not None:
        query = query.where(WorkspaceRecord.id.in_(ids))
    return session.scalars(query).all()


def add_record(session: Session, record: WorkspaceRecord) -> WorkspaceRecord:
    session.add(record)
    session.flush()
    return record


def save_balance(session: Session, items: int, orphans: int, at: datetime) -> None:
    """What the last balance of the session's workspace counted, for the organisation view."""
    _save(session, work_items=items, orphan_items=orphans, balanced_at=at)


def save_work_counts(session: Session, by_exposure: dict[str, int], newest: datetime | None) -> None:
    """The session's workspace's items per AI exposure, and its newest import."""
    _save(session, items_by_exposure=by_exposure, last_import_at=newest)


def links_rules(session: Session) -> str | None:
    """The link rules the workspace's kept links were made with (``work.service.Linker.rules``)."""
    return session.scalar(select(WorkspaceRecord.links_rules).where(WorkspaceRecord.id == scope.current(session)))


def save_links_rules(session: Session, rules: str | None) -> None:
    _save(session, links_rules=rules)


def save_systems_blocked(session: Session, blocked: int) -> None:
    _save(session, systems_blocked=blocked)


def _save(session: Session, **facts: object) -> None:
    session.execute(update(WorkspaceRecord).where(WorkspaceRecord.id == scope.current(session)).values(**facts))


def latest(session: Session) -> WorkspaceRevision | None:
    return session.scalars(select(WorkspaceRevision).order_by(WorkspaceRevision.id.desc()).limit(1)).first()


def history(session: Session, limit: int = 50) -> Sequence[WorkspaceRevision]:
    return session.scalars(select(WorkspaceRevision).order_by(WorkspaceRevision.id.desc()).limit(limit)).all()


def add(session: Session, revision: WorkspaceRevision) -> WorkspaceRevision:
    session.add(revision)
    session.flush()
    return revision
