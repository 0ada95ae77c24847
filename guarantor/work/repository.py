"""The only place that queries work items and link decisions."""

from __future__ import annotations

import json
from collections.abc import Callable, Generator, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import Connection, Dialect, Table, and_, bindparam, delete, exists, func, select, update
from sqlalchemy.orm import Session

from guarantor.db import scope
from guarantor.db.base import chunks
from guarantor.work.categories import NOT_CATEGORISED, category
from guarantor.work.importers.base import Item
from guarantor.work.models import LinkDecision, SyncState, WorkItem, WorkLink
from guarantor.workspace.models import WorkspaceRecord

ITEMS = cast(Table, WorkItem.__table__)
LINKS = cast(Table, WorkLink.__table__)
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
    "content_hash",
    "imported_at",
    "month",
    "days",
    "size",
    "category",
)
_WRITTEN = ("workspace_id", "source", "external_id", *_STORED, "labels", "components", "links", "exposure")
"""The columns an import writes, in the order of ``row``'s values and then the exposure (found
apart, by the model); all but the key are updated."""
_HASH, _NOW = _WRITTEN.index("content_hash"), _WRITTEN.index("imported_at")


@dataclass
class UpsertCounts:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0


def derived(item: Item) -> tuple[str | None, float | None, float]:
    """What the balance adds up, kept with the item (``WorkItem.month``, ``days``, ``size``): the
    YYYY-MM (UTC) of its close, else of its creation; the days from its start (or creation) to its
    close, for a closed item; and its size, points * 1000 + days, by which the largest come first."""
    when = item.closed_at or item.created_at
    begun = item.started_at or item.created_at
    days = None
    if item.closed_at is not None and begun is not None and item.closed_at >= begun:
        days = (item.closed_at - begun).total_seconds() / 86400
    utc = None if when is None else when.astimezone(UTC)
    month = None if utc is None else f"{utc.year}-{utc.month:02d}"  # %Y-%m for years 1900-2200, at a third of the cost
    return month, days, (item.estimate or 0.0) * 1000 + (days or 0.0)


def _json_list(values: list[str]) -> str:
    """``json.dumps(values)``, written directly when no value needs escaping (plain printable
    ASCII without quotes or backslashes, as labels and components mostly are): dumps took 3.8 µs
    for one label, a fifth of an item's row, against 0.5 µs."""
    if not values:
        return "[]"
    plain = "".join(values)
    if plain.isascii() and plain.isprintable() and '"' not in plain and "\\" not in plain:
        return '["' + '", "'.join(values) + '"]'
    return json.dumps(values)


def row(item: Item, now: datetime, workspace: int) -> tuple[Any, ...]:
    """The values an import writes for an item but its exposure, in the order of ``_WRITTEN``:
    plain values, made wherever the item was read."""
    month, days, size = derived(item)
    return (
        workspace,
        item.source,
        item.external_id,
        item.kind[:40],
        item.title,
        item.body[:8000],
        item.state[:60],
        item.closed,
        item.created_at,
        item.started_at,
        item.closed_at,
        item.assignee,
        item.estimate,
        item.epic,
        item.sprint,
        item.url,
        item.content_hash(),
        now,
        month,
        days,
        size,
        category(item.kind, item.labels),
        _json_list(item.labels),
        _json_list(item.components),
        _json_list(item.links),
    )


@lru_cache(maxsize=8)
def _insert(dialect: Dialect) -> tuple[str, tuple[tuple[int, Callable[[Any], Any]], ...], Callable[[Any], Any]]:
    """The INSERT of an item in the driver's own form, the conversions the columns' types make of
    its values (times to UTC, and to text on SQLite), and that of the import's time apart, made
    once for all the items it stamps. Sent straight to the driver, the rows of 1M items skip
    SQLAlchemy's processing of each value, which took 10 s of an import."""
    quote = dialect.identifier_preparer.quote
    mark = {"qmark": "?", "format": "%s", "pyformat": "%s"}[dialect.paramstyle]
    columns = ", ".join(quote(c) for c in _WRITTEN)
    sql = f"INSERT INTO {quote(ITEMS.name)} ({columns}) VALUES ({', '.join([mark] * len(_WRITTEN))})"
    types = (ITEMS.c[c].type.dialect_impl(dialect) for c in _WRITTEN)
    processors = {i: p for i, t in enumerate(types) if (p := t.bind_processor(dialect))}
    stamp = processors.pop(_NOW)  # a UTCDateTime's: there on every database
    return sql, tuple(processors.items()), stamp


def _bound(row: tuple[Any, ...], processors: Iterable[tuple[int, Callable[[Any], Any]]], stamp: Any) -> tuple[Any, ...]:
    values = list(row)
    for i, process in processors:
        values[i] = process(values[i])
    values[_NOW] = stamp
    return tuple(values)


def upsert(
    session: Session, rows: Sequence[tuple[Any, ...]], counts: UpsertCounts
) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Insert new items, update changed ones, leave unchanged ones alone (by content hash). ``rows``
    are ``row``'s, each with its exposure added; returns the updated and the inserted ones, each as
    its id and its place in ``rows`` (of a key given twice, the last wins)."""
    latest = {(r[1], r[2]): i for i, r in enumerate(rows)}
    known = _stored(session, latest)
    new = [i for k, i in latest.items() if k not in known]
    changed = [(k, i) for k, i in latest.items() if k in known and known[k][1] != rows[i][_HASH]]
    updated = [(known[k][0], i) for k, i in changed]
    inserted: list[tuple[int, int]] = []
    conn = session.connection()
    if new:
        sql, processors, stamp = _insert(conn.dialect)
        imported = stamp(rows[new[0]][_NOW])  # one import, one time
        first = _next_rowid(conn)
        # executemany: RETURNING would send the rows one at a time on SQLite
        conn.exec_driver_sql(sql, [_bound(rows[i], processors, imported) for i in new])
        ids = _consecutive(conn, first, len(new))
        if ids is None:
            at = {(rows[i][1], rows[i][2]): i for i in new}
            inserted = [(i, at[k]) for k, (i, _) in _stored(session, at).items()]
        else:
            inserted = list(zip(ids, new, strict=True))
    if changed:
        workspace = scope.current(session)
        conn.execute(
            update(ITEMS)
            .where(
                and_(
                    ITEMS.c.workspace_id == workspace,
                    ITEMS.c.source == bindparam("b_source"),
                    ITEMS.c.external_id == bindparam("b_external_id"),
                )
            )
            .values({c: bindparam(c) for c in _WRITTEN[3:]}),
            [
                {**dict(zip(_WRITTEN, rows[i], strict=True)), "b_source": source, "b_external_id": ext}
                for (source, ext), i in changed
            ],
        )
    counts.inserted += len(new)
    counts.updated += len(changed)
    counts.unchanged += len(latest) - len(new) - len(changed) + (len(rows) - len(latest))
    return updated, inserted


def _next_rowid(conn: Connection) -> int | None:
    """On SQLite, the id the next item will get: each new row gets the table's largest rowid plus
    one (https://sqlite.org/autoinc.html), so the items one statement inserts, in a transaction
    that alone writes, get consecutive ids in the order given. Knowing them saves reading them
    back, which took 7.5 µs an item. PostgreSQL's sequences promise no such thing."""
    return (conn.scalar(select(func.max(ITEMS.c.id))) or 0) + 1 if conn.dialect.name == "sqlite" else None


def _consecutive(conn: Connection, first: int | None, n: int) -> range | None:
    """The ids of the ``n`` items just inserted from ``first``, if the last of them proves it: once
    the largest rowid is the largest possible, SQLite picks new ones at random."""
    if first is None or conn.exec_driver_sql("SELECT last_insert_rowid()").scalar() != first + n - 1:
        return None
    return range(first, first + n)


def room_to_write(session: Session) -> None:
    """A page cache of 64 MiB for the connection that writes an import (SQLite's is 2 MiB): the
    items' indexes outgrow the default at a few hundred thousand items, and each page it lets
    go is written to the WAL and read back. Pages are taken only as the import needs them, and
    they cost memory: importing 1M items took 72.9 s at a 205 MiB peak without, 68.6 s at 265 MiB
    with 32 MiB, 65.3 s at 315 MiB with 64. PostgreSQL keeps its own cache."""
    if session.get_bind().dialect.name == "sqlite":
        session.connection().exec_driver_sql(f"PRAGMA cache_size=-{64 * 1024}")


def _stored(session: Session, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], tuple[int, str]]:
    """(source, external id) -> (id, content hash) of these items, where stored."""
    by_source: dict[str, list[str]] = {}
    for source, ext in keys:
        by_source.setdefault(source, []).append(ext)
    found: dict[tuple[str, str], tuple[int, str]] = {}
    for source, ids in by_source.items():
        for i, s, e, h in session.execute(
            select(ITEMS.c.id, ITEMS.c.source, ITEMS.c.external_id, ITEMS.c.content_hash).where(
                ITEMS.c.workspace_id == scope.current(session), ITEMS.c.source == source, ITEMS.c.external_id.in_(ids)
            )
        ):
            found[(s, e)] = (i, h)
    return found


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


def replace_links(session: Session, links: Sequence[tuple[int, Sequence[str]]], new: bool = False) -> None:
    """The outcomes each of these items serves, in place of what was kept for them (nothing, for
    ``new`` items: not asked)."""
    workspace = scope.current(session)
    conn = session.connection()
    for ids in chunks([] if new else [i for i, _ in links], 900):
        conn.execute(delete(LINKS).where(LINKS.c.workspace_id == workspace, LINKS.c.item_id.in_(ids)))
    rows = [
        {"workspace_id": workspace, "item_id": i, "outcome_id": o, "share": 1 / len(outcomes)}
        for i, outcomes in links
        for o in outcomes
    ]
    if rows:
        conn.execute(LINKS.insert(), rows)


def forget_links(session: Session) -> None:
    session.connection().execute(delete(LINKS).where(LINKS.c.workspace_id == scope.current(session)))


@dataclass(frozen=True)
class Totals:
    outcome: str
    month: str
    exposure: str
    count: int  # items, each counted once in each outcome it serves
    items: float  # the items' shares: summed over outcomes, each item counts once
    points: float  # an item's points and days are split evenly between the outcomes it serves
    days: float


def by_category(session: Session) -> list[tuple[str, int, float, float]]:
    """Items, points and days per kind of work, from the index on the category: an item counts
    once whatever outcomes it serves."""
    items = ITEMS.c
    grouped = (
        select(items.category, func.count(), func.sum(items.estimate), func.sum(items.days))
        .where(items.workspace_id == scope.current(session))
        .group_by(items.category)
    )
    return [(c or NOT_CATEGORISED, int(n), float(p or 0), float(d or 0)) for c, n, p, d in session.execute(grouped)]


def totals(session: Session, unlinked: str) -> list[Totals]:
    """Items, points and days per outcome (``unlinked`` for items serving none), month and AI
    exposure.

    The linked items are read through their links. The others are what is left of all the items
    (counted from an index, reading no item) once the linked are taken away: each linked item's
    shares add up to one, so the links' sums per month and exposure are the linked items' own.
    Asking the links of every item whether it has one took longer than all the rest of a balance.
    Shares such as 1/3 leave a float residue of about 1e-12 in what is left; points and days are
    never negative, so neither is it."""
    workspace = scope.current(session)
    month, exposure, points, days = ITEMS.c.month, ITEMS.c.exposure, ITEMS.c.estimate, ITEMS.c.days
    linked = (
        select(
            LINKS.c.outcome_id,
            month,
            exposure,
            func.count(),
            func.sum(LINKS.c.share),
            func.sum(LINKS.c.share * points),
            func.sum(LINKS.c.share * days),
        )
        .select_from(LINKS.join(ITEMS, LINKS.c.item_id == ITEMS.c.id))
        .where(LINKS.c.workspace_id == workspace)
        .group_by(LINKS.c.outcome_id, month, exposure)
    )
    found = [
        Totals(o, m or "undated", e or "unknown", int(n), float(i), float(p or 0), float(d or 0))
        for o, m, e, n, i, p, d in session.execute(linked)
    ]
    left: dict[tuple[str, str], list[float]] = {}
    # Grouped by the bare columns, in the order of their covering index, SQLite reads the groups off
    # the index as they come: 0.38 s at 1M items, where sorting them again (to group on a
    # COALESCE) took 1.28 s. A sum of NULLs only is NULL, hence the ``or 0``.
    everything = select(month, exposure, func.count(), func.sum(points), func.sum(days)).where(
        ITEMS.c.workspace_id == workspace
    )
    for m, e, n, p, d in session.execute(everything.group_by(month, exposure)):
        left[(m or "undated", e or "unknown")] = [float(n), float(p or 0), float(d or 0)]
    for t in found:
        rest = left[(t.month, t.exposure)]
        rest[0], rest[1], rest[2] = rest[0] - t.items, rest[1] - t.points, rest[2] - t.days
    for (m, e), (n, p, d) in left.items():
        if round(n) > 0:
            found.append(Totals(unlinked, m, e, round(n), float(round(n)), max(p, 0.0), max(d, 0.0)))
    return sorted(found, key=lambda t: (t.outcome, t.month, t.exposure))  # as one GROUP BY gave them


def largest_unlinked(session: Session, limit: int) -> list[tuple[str, str, str, float | None, float | None]]:
    """The largest items serving no outcome (by points, then days; the earlier first on a tie):
    source, external id, title, estimate, days. Read down the size index until ``limit`` are found."""
    query = (
        select(ITEMS.c.source, ITEMS.c.external_id, ITEMS.c.title, ITEMS.c.estimate, ITEMS.c.days)
        .where(ITEMS.c.workspace_id == scope.current(session), ~exists().where(LINKS.c.item_id == ITEMS.c.id))
        .order_by(ITEMS.c.size.desc(), ITEMS.c.id)
        .limit(limit)
    )
    return [(s, e, t, est, d) for s, e, t, est, d in session.execute(query)]


def last_closed(session: Session, outcomes: Iterable[str], per_outcome: int) -> list[tuple[str, datetime, str, str]]:
    """The ``per_outcome`` items each of these outcomes had closed last: outcome, closed at, source,
    external id. One query per outcome keeps only the latest as it reads (the outcomes of a
    workspace are few): ranking the closed items of every outcome at once sorted them all, 1.15 s
    at 1M items against 0.45 s."""
    found: list[tuple[str, datetime, str, str]] = []
    for outcome in outcomes:
        query = (
            select(ITEMS.c.closed_at, ITEMS.c.source, ITEMS.c.external_id)
            .select_from(LINKS.join(ITEMS, LINKS.c.item_id == ITEMS.c.id))
            .where(
                LINKS.c.workspace_id == scope.current(session),
                LINKS.c.outcome_id == outcome,
                ITEMS.c.closed_at.is_not(None),
            )
            .order_by(ITEMS.c.closed_at.desc(), ITEMS.c.source.desc(), ITEMS.c.external_id.desc())
            .limit(per_outcome)
        )
        found.extend((outcome, c, s, e) for c, s, e in session.execute(query))
    return found


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
