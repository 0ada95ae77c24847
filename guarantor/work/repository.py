"""The only place that queries work items and link decisions."""

from __future__ import annotations

import json
from collections.abc import Generator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, func, select, update
from sqlalchemy.orm import Session

from guarantor.db import scope
from guarantor.work.importers.base import Item
from guarantor.work.models import LinkDecision, SyncState, WorkItem
from guarantor.workspace.models import WorkspaceRecord

ITEMS = cast(Table, WorkItem.__table__)
_STORED = (
    "kind",
    "title",
    "body",
    "state",
    "closed",
    "created_at",
    "started_at",
    "closed_at",
    "assignee",
    "estimate",
    "epic",
    "sprint",
    "url",
    "exposure",
    "content_hash",
    "imported_at",
)


@dataclass
class UpsertCounts:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0


def _row(item: Item, exposure: str | None, now: datetime) -> dict[str, Any]:
    return {
        "source": item.source,
        "external_id": item.external_id,
        "kind": item.kind[:40],
        "title": item.title,
        "body": item.body[:8000],
        "state": item.state[:60],
        "closed": item.closed,
        "created_at": item.created_at,
        "started_at": item.started_at,
        "closed_at": item.closed_at,
        "labels": json.dumps(item.labels),
        "assignee": item.assignee,
        "estimate": item.estimate,
        "epic": item.epic,
        "sprint": item.sprint,
        "components": json.dumps(item.components),
        "url": item.url,
        "links": json.dumps(item.links),
        "exposure": exposure,
        "content_hash": item.content_hash(),
        "imported_at": now,
    }


def upsert(
    session: Session, items: Sequence[Item], exposures: Sequence[str | None], now: datetime, counts: UpsertCounts
) -> None:
    """Insert new items, update changed ones, leave unchanged ones alone (by content hash)."""
    workspace = scope.current(session)
    latest: dict[tuple[str, str], dict[str, Any]] = {}
    for item, exposure in zip(items, exposures, strict=True):  # a duplicate row in one batch: the last wins
        latest[(item.source, item.external_id)] = {**_row(item, exposure, now), "workspace_id": workspace}
    by_source: dict[str, list[str]] = {}
    for source, ext in latest:
        by_source.setdefault(source, []).append(ext)
    known: dict[tuple[str, str], str] = {}
    for source, ids in by_source.items():
        for s, e, h in session.execute(
            select(ITEMS.c.source, ITEMS.c.external_id, ITEMS.c.content_hash).where(
                ITEMS.c.workspace_id == workspace, ITEMS.c.source == source, ITEMS.c.external_id.in_(ids)
            )
        ):
            known[(s, e)] = h
    new = [r for k, r in latest.items() if k not in known]
    changed = [
        {**r, "b_source": r["source"], "b_external_id": r["external_id"]}
        for k, r in latest.items()
        if k in known and known[k] != r["content_hash"]
    ]
    conn = session.connection()
    if new:
        conn.execute(ITEMS.insert(), new)
    if changed:
        conn.execute(
            update(ITEMS)
            .where(
                and_(
                    ITEMS.c.workspace_id == workspace,
                    ITEMS.c.source == bindparam("b_source"),
                    ITEMS.c.external_id == bindparam("b_external_id"),
                )
            )
            .values({c: bindparam(c) for c in (*_STORED, "labels", "components", "links")}),
            changed,
        )
    counts.inserted += len(new)
    counts.updated += len(changed)
    counts.unchanged += len(latest) - len(new) - len(changed) + (len(items) - len(latest))


def iterate(session: Session, columns: Sequence[str], batch: int = 10_000) -> Generator[Sequence[Any], None, None]:
    """Rows of the given columns of every work item, streamed in batches: memory stays bounded."""
    # On the statement, not the connection: a connection-wide yield_per would turn the inserts that
    # follow in the same transaction into server-side cursors on PostgreSQL.
    query = (
        select(*(ITEMS.c[c] for c in columns))
        .where(ITEMS.c.workspace_id == scope.current(session))
        .order_by(ITEMS.c.id)
        .execution_options(yield_per=batch)
    )
    with session.connection().execute(query) as result:  # closed even when the reader stops early
        yield from result


def unclassified(session: Session, batch: int) -> list[tuple[int, str, str]]:
    """Up to ``batch`` items with no exposure yet: id, title, body."""
    query = select(ITEMS.c.id, ITEMS.c.title, ITEMS.c.body).where(
        ITEMS.c.workspace_id == scope.current(session), ITEMS.c.exposure.is_(None)
    )
    return [(int(i), t, b) for i, t, b in session.execute(query.order_by(ITEMS.c.id).limit(batch))]


def set_exposure(session: Session, levels: Sequence[tuple[int, str]]) -> None:
    session.connection().execute(
        update(ITEMS)
        .where(ITEMS.c.workspace_id == scope.current(session), ITEMS.c.id == bindparam("b_id"))
        .values(exposure=bindparam("level")),
        [{"b_id": i, "level": level} for i, level in levels],
    )


def _sync_state(session: Session, source: str, where: str) -> SyncState | None:
    return session.scalars(select(SyncState).where(SyncState.source == source, SyncState.scope == where)).first()


def sync_cursor(session: Session, source: str, where: str) -> str | None:
    state = _sync_state(session, source, where)
    return state.cursor if state else None


def save_sync_cursor(session: Session, source: str, where: str, cursor: str, now: datetime) -> None:
    state = _sync_state(session, source, where)
    if state is None:
        session.add(SyncState(source=source, scope=where, cursor=cursor, synced_at=now))
    else:
        state.cursor, state.synced_at = cursor, now
    session.flush()


def count(session: Session) -> int:
    return int(
        session.scalar(select(func.count()).select_from(ITEMS).where(ITEMS.c.workspace_id == scope.current(session)))
        or 0
    )


def find(session: Session, source: str, external_id: str) -> WorkItem | None:
    return session.scalars(
        select(WorkItem).where(WorkItem.source == source, WorkItem.external_id == external_id)
    ).first()


def decide(session: Session, source: str, external_id: str, outcome_id: str, decision: str, now: datetime) -> None:
    row = session.scalars(
        select(LinkDecision).where(
            LinkDecision.source == source,
            LinkDecision.external_id == external_id,
            LinkDecision.outcome_id == outcome_id,
        )
    ).first()
    if row is None:
        session.add(
            LinkDecision(
                source=source, external_id=external_id, outcome_id=outcome_id, decision=decision, decided_at=now
            )
        )
    else:
        row.decision, row.decided_at = decision, now
    session.flush()


def decisions(session: Session) -> dict[tuple[str, str], dict[str, str]]:
    """(source, external id) -> {outcome id: accepted|rejected}."""
    out: dict[tuple[str, str], dict[str, str]] = {}
    for d in session.scalars(select(LinkDecision)):
        out.setdefault((d.source, d.external_id), {})[d.outcome_id] = d.decision
    return out


def version(session: Session) -> tuple[int, datetime | None, datetime | None, str]:
    """A value that changes whenever the workspace's work does, from any process, read without
    touching the items: the number of link decisions and the newest (a decision is added or
    changed, never removed), and the facts every import, sync and classification leaves on the
    workspace when it ends (its newest import and its items per exposure)."""
    decisions, decided = session.execute(select(func.count(), func.max(LinkDecision.decided_at))).one()
    imported, counts = session.execute(
        select(WorkspaceRecord.last_import_at, WorkspaceRecord.items_by_exposure).where(
            WorkspaceRecord.id == scope.current(session)
        )
    ).one()
    return int(decisions), decided, imported, json.dumps(counts, sort_keys=True)


def exposure_counts(session: Session) -> tuple[dict[str, int], datetime | None]:
    """The workspace's items per AI exposure ("unknown" for none yet), and its newest import."""
    query = (
        select(ITEMS.c.exposure, func.count(), func.max(ITEMS.c.imported_at))
        .where(ITEMS.c.workspace_id == scope.current(session))
        .group_by(ITEMS.c.exposure)
    )
    rows = session.execute(query).all()
    return {e or "unknown": int(n) for e, n, _ in rows}, max((at for *_, at in rows), default=None)
