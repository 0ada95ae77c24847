"""The only place that queries measurements and claims."""

from __future__ import annotations

import json
import os
import socket
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import cast

from sqlalchemy import String, Table, and_, bindparam, case, column, delete, func, select, tuple_, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session
from sqlalchemy.sql.selectable import CTE

from guarantor.db import scope
from guarantor.db.base import Base, chunks
from guarantor.guarantees.budget import Tally
from guarantor.guarantees.models import Claim, Measurement, OutcomeStateRecord, Status

Key = tuple[str, str, datetime]  # indicator id, spec hash, scheduled time
CLAIMS = cast(Table, Claim.__table__)
_STORED = tuple(c.key for c in Measurement.__table__.columns if c.key not in ("id", "workspace_id"))


def runner_id() -> str:
    """Unique per run (two runs in one process must not share claims), and naming its process (pid
    and start time, so a reused pid is not mistaken for it) so a claim left by a killed run can be
    recognised."""
    pid = os.getpid()
    return f"{socket.gethostname()}:{pid}.{_started(pid) or ''}:{uuid.uuid4().hex[:8]}"


def _proc(pid: int) -> tuple[str, str] | None:
    """A process's state letter and start time (clock ticks since boot) from /proc; None if it is
    gone, ("", "") where there is no /proc to ask."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return None if Path("/proc/self/stat").exists() else ("", "")
    except OSError:
        return ("", "")
    fields = stat.rsplit(")", 1)[-1].split()
    return fields[0], fields[19]


def _started(pid: int) -> str:
    found = _proc(pid)
    return found[1] if found else ""


def _insert(session: Session, model: type[Base]):  # type: ignore[no-untyped-def]
    """INSERT into the model's table in the dialect that knows ON CONFLICT DO NOTHING."""
    table = cast(Table, model.__table__)
    return (pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert)(table)


def insert_ignoring_duplicates(session: Session, model: type[Base], values: Mapping[str, object]) -> bool:
    """Insert one row of the session's workspace unless a unique key already has it; True if this
    call inserted it."""
    row = {**values, "workspace_id": scope.current(session)}
    result = session.execute(_insert(session, model).values(row).on_conflict_do_nothing())
    return bool(getattr(result, "rowcount", 0))


def measured(session: Session, keys: Sequence[Key]) -> set[Key]:
    """The slots among ``keys`` already measured. Asked per indicator and spec (one bound table,
    ``_wanted``) at the few times a run fills, not by a list of every key, which SQLAlchemy took
    15 ms to render for 1,000 slots."""
    if not keys:
        return set()
    wanted = _wanted(session, sorted({(i, h) for i, h, _ in keys}))
    joined = and_(
        Measurement.indicator_id == wanted.c.indicator_id,
        Measurement.spec_hash == wanted.c.spec_hash,
        Measurement.scheduled_at.in_(sorted({at for _, _, at in keys})),
    )
    query = (
        select(Measurement.indicator_id, Measurement.spec_hash, Measurement.scheduled_at)
        .select_from(wanted)
        .outerjoin(Measurement, joined)  # the wanted table first, as in ``latest``
    )
    return {(i, h, at) for i, h, at in session.execute(query) if i is not None} & set(keys)


def claim(session: Session, keys: Sequence[Key], owner: str, now: datetime, expires: datetime) -> set[Key]:
    """Claim slots for ``owner``; returns the ones it holds. Taken over: expired claims, and claims
    of a runner on this host that is no longer alive (killed mid-run).

    The insert returns the slots it claimed, so only the slots another runner claimed first are
    read back: usually none. Reading every slot back, by lists of keys SQLAlchemy renders anew for
    each chunk, took 40 of the 55 ms that claiming 1,000 slots cost."""
    if not keys:
        return set()
    workspace = scope.current(session)
    rows = [
        {
            "workspace_id": workspace,
            "indicator_id": k[0],
            "spec_hash": k[1],
            "scheduled_at": k[2],
            "owner": owner,
            "expires_at": expires,
        }
        for k in keys
    ]
    insert = _insert(session, Claim).on_conflict_do_nothing()
    returned = insert.returning(CLAIMS.c.indicator_id, CLAIMS.c.spec_hash, CLAIMS.c.scheduled_at)
    held: set[Key] = {(a, b, c) for a, b, c in session.connection().execute(returned, rows)}
    for chunk in chunks([k for k in keys if k not in held]):
        taken = session.scalars(
            select(Claim).where(tuple_(Claim.indicator_id, Claim.spec_hash, Claim.scheduled_at).in_(chunk))
        )
        for c in taken:
            key = (c.indicator_id, c.spec_hash, c.scheduled_at)
            stale = c.expires_at < now or _dead(c.owner)
            if c.owner == owner or (stale and _take_over(session, key, c.owner, owner, expires)):
                held.add(key)
    return held


def _take_over(session: Session, key: Key, old: str, owner: str, expires: datetime) -> bool:
    """Compare-and-set: the claim passes to ``owner`` only if ``old`` still holds it."""
    changed = session.execute(
        update(Claim)
        .where(
            and_(
                Claim.indicator_id == key[0],
                Claim.spec_hash == key[1],
                Claim.scheduled_at == key[2],
                Claim.owner == old,
            )
        )
        .values(owner=owner, expires_at=expires)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(changed, "rowcount", 0))


def abandoned(session: Session, now: datetime) -> list[Key]:
    """Slots claimed by a run that will never measure them: expired, or of a runner on this host
    that is gone. The next run measures them (``runner.check``), whatever slot is due now."""
    rows = session.execute(
        select(Claim.indicator_id, Claim.spec_hash, Claim.scheduled_at, Claim.owner, Claim.expires_at)
    )
    return [(i, h, at) for i, h, at, owner, expires in rows if expires < now or _dead(owner)]


def forget_claims(session: Session, keys: Sequence[Key]) -> None:
    """Drop abandoned claims no run will measure: their indicator left the workspace, or its spec
    changed (a new series). Left, a server killed mid-check held them for good."""
    for chunk in chunks(list(keys)):
        session.execute(
            delete(Claim)
            .where(tuple_(Claim.indicator_id, Claim.spec_hash, Claim.scheduled_at).in_(chunk))
            .execution_options(synchronize_session=False)
        )


def _dead(owner: str) -> bool:
    """Whether the runner that wrote ``owner`` is gone: its process has exited, is a zombie (killed,
    not yet reaped), or its pid now belongs to a process started at another time."""
    host, process, _token = [*owner.rsplit(":", 2), "", ""][:3]
    pid, _, started = process.partition(".")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    found = _proc(int(pid))
    if found == ("", ""):  # no /proc: ask the kernel whether the pid exists at all
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        return False
    if found is None or found[0] in ("Z", "X"):
        return True
    return bool(started) and found[1] != started


def record(session: Session, measurements: Sequence[Measurement], owner: str) -> int:
    """Append measurements (a slot already stored is left as it is) and release their claims.

    Both statements are executed once for many rows (compiled once, kept): a claim is released by
    its key, row by row, rather than by a list of keys that SQLAlchemy renders anew for each batch."""
    workspace = scope.current(session)
    rows = [{**_values(m), "workspace_id": workspace} for m in measurements]
    if not rows:
        return 0
    conn = session.connection()
    conn.execute(_insert(session, Measurement).on_conflict_do_nothing(), rows)
    conn.execute(
        delete(CLAIMS).where(
            CLAIMS.c.workspace_id == workspace,
            CLAIMS.c.indicator_id == bindparam("b_indicator"),
            CLAIMS.c.spec_hash == bindparam("b_spec"),
            CLAIMS.c.scheduled_at == bindparam("b_at"),
            CLAIMS.c.owner == owner,
        ),
        [{"b_indicator": r["indicator_id"], "b_spec": r["spec_hash"], "b_at": r["scheduled_at"]} for r in rows],
    )
    return len(rows)


def add(session: Session, m: Measurement) -> bool:
    """Append one measurement (a check-in); False when its slot is taken already."""
    return insert_ignoring_duplicates(session, Measurement, _values(m))


def _values(m: Measurement) -> dict[str, object]:
    """Read from the instance's own dict where it is there: the instrumented attributes cost 20 µs
    a measurement, in the thread the workers wait on; an unset or expired one is asked properly."""
    loaded = m.__dict__
    return {k: loaded[k] if k in loaded else getattr(m, k) for k in _STORED}


def history(
    session: Session, indicator_ids: Sequence[str], since: datetime | None = None, limit: int | None = None
) -> Sequence[Measurement]:
    """Measurements of these indicators, oldest first (the newest ``limit`` if given), asked in
    chunks of indicators however many there are."""
    found: list[Measurement] = []
    for ids in chunks(indicator_ids):
        query = select(Measurement).where(Measurement.indicator_id.in_(ids))
        if since is not None:
            query = query.where(Measurement.measured_at >= since)
        if limit is not None:
            query = query.order_by(Measurement.measured_at.desc(), Measurement.id.desc()).limit(limit)
        found += session.scalars(query)
    if limit is not None:
        found.sort(key=lambda m: (m.measured_at, m.id))
        found = found[-limit:]
    found.sort(key=lambda m: (m.observed_at, m.id))  # a back-dated check-in among the values of its time
    return found


def latest(
    session: Session,
    indicators: Sequence[str],
    *,
    hashes: Mapping[str, str] | None = None,
    by_schedule: bool = False,
    since: datetime | None = None,
) -> dict[str, Measurement]:
    """Each indicator's newest measurement (of its spec ``hashes[id]`` when given, measured since
    ``since`` when given): the last measured, or ``by_schedule`` (check-ins, which may be recorded
    for an earlier time) the one for the latest time, the last measured among equals.

    One index seek per indicator, whatever the history's length: the newest is asked of each
    indicator on its own (a correlated LIMIT 1) rather than ranked among all its measurements."""
    found: dict[str, Measurement] = {}
    if indicators:
        wanted = _wanted(session, [(i, hashes[i] if hashes is not None else "") for i in indicators])
        where = [Measurement.indicator_id == wanted.c.indicator_id]
        if hashes is not None:
            where.append(Measurement.spec_hash == wanted.c.spec_hash)
        if since is not None:
            where.append(Measurement.measured_at >= since)
        order = (Measurement.scheduled_at.desc(),) if by_schedule else ()
        newest = (
            select(Measurement.id)
            .where(*where)
            .order_by(*order, Measurement.measured_at.desc(), Measurement.id.desc())
            .limit(1)
            .correlate(wanted)
            .scalar_subquery()
        )
        query = select(Measurement).select_from(wanted).outerjoin(Measurement, Measurement.id == newest)
        found.update((m.indicator_id, m) for m in session.scalars(query) if m is not None)
    return found


def _wanted(session: Session, pairs: Sequence[tuple[str, str]]) -> CTE:
    """The indicators asked for (with a spec hash, or "") as a table the measurements are LEFT
    JOINed to: a join no planner turns around, so each indicator is one index seek. Without
    ANALYZE's statistics SQLite guesses that the workspace's index finds ten rows, and a plain
    WHERE ... IN (...) scanned all of the workspace's measurements for every chunk.

    The table is one bound value whatever its length (a JSON array on SQLite, two arrays on
    PostgreSQL), so the statement is compiled once and kept: a VALUES list of constants took
    SQLAlchemy 10 ms to compile per 300 indicators, every time it was asked."""
    if session.get_bind().dialect.name == "postgresql":
        table = (
            func.unnest(
                bindparam("wanted_ids", [i for i, _ in pairs], type_=ARRAY(String)),
                bindparam("wanted_hashes", [h for _, h in pairs], type_=ARRAY(String)),
            )
            .table_valued(column("indicator_id", String), column("spec_hash", String))
            .render_derived(name="pairs")
        )
        return select(table.c.indicator_id, table.c.spec_hash).cte("wanted")
    each = func.json_each(bindparam("wanted", json.dumps(pairs), type_=String)).table_valued("value")
    return select(
        func.json_extract(each.c.value, "$[0]", type_=String).label("indicator_id"),
        func.json_extract(each.c.value, "$[1]", type_=String).label("spec_hash"),
    ).cte("wanted")


def tally(session: Session, hashes: Mapping[str, str], moments: Sequence[datetime]) -> dict[str, dict[datetime, Tally]]:
    """For each indicator, its measurements of spec ``hashes[id]`` since each of ``moments``:
    good (MET, AT_RISK), bad (BROKEN) and unknown. Counted by the database, one row per
    indicator, status and span between two moments."""
    order = sorted(set(moments), reverse=True)
    if not order:
        return {}
    span = case(*((Measurement.measured_at >= t, k) for k, t in enumerate(order)))
    counts: dict[str, dict[int, list[int]]] = {}
    ids = list(hashes)
    if ids:
        wanted = _wanted(session, [(i, hashes[i]) for i in ids])
        joined = and_(
            Measurement.indicator_id == wanted.c.indicator_id,
            Measurement.spec_hash == wanted.c.spec_hash,
            Measurement.measured_at >= order[-1],
        )
        query = (
            select(Measurement.indicator_id, Measurement.status, span.label("span"), func.count())
            .select_from(wanted)
            .outerjoin(Measurement, joined)  # a WHERE on the joined side would let SQLite make it an inner join
            .group_by(Measurement.indicator_id, Measurement.status, "span")
        )
        for indicator, status, k, n in session.execute(query):
            if indicator is None:  # wanted, nothing measured
                continue
            kind = 0 if status in _GOOD else 1 if status == Status.BROKEN else 2
            counts.setdefault(indicator, {}).setdefault(k, [0, 0, 0])[kind] += n
    out: dict[str, dict[datetime, Tally]] = {}
    for indicator in ids:
        running = [0, 0, 0]
        spans = counts.get(indicator, {})
        out[indicator] = {}
        for k, t in enumerate(order):  # newest moment first: each adds its span to the running count
            running = [a + b for a, b in zip(running, spans.get(k, (0, 0, 0)), strict=True)]
            out[indicator][t] = Tally(*running)
    return out


_GOOD = (Status.MET, Status.AT_RISK)


def last_id(session: Session) -> int:
    """The newest measurement's id: it changes whenever anything is measured, so a reader can keep
    what it derived from measurements until then. A primary-key maximum: one index lookup."""
    return session.scalar(select(func.max(Measurement.id))) or 0


def forget_states_except(session: Session, outcome_ids: Sequence[str]) -> None:
    """Drop the stored states of outcomes the workspace no longer guarantees: a state counted for an
    outcome that is gone would contradict the outcomes counted beside it. Read first, so a command
    that changes nothing (most that read the file) writes nothing and takes no write lock."""
    workspace = scope.current(session)
    stored = select(OutcomeStateRecord.outcome_id).where(OutcomeStateRecord.workspace_id == workspace)
    stale = set(session.scalars(stored)) - set(outcome_ids)
    if stale:
        session.execute(
            delete(OutcomeStateRecord)
            .where(OutcomeStateRecord.workspace_id == workspace, OutcomeStateRecord.outcome_id.in_(stale))
            .execution_options(synchronize_session=False)
        )


def states_by_status(session: Session, workspace_ids: Sequence[int]) -> list[tuple[int, str, int]]:
    """(workspace id, status, outcomes) of the stored outcome states; read across workspaces (the
    organisation view)."""
    query = (
        select(OutcomeStateRecord.workspace_id, OutcomeStateRecord.status, func.count())
        .where(OutcomeStateRecord.workspace_id.in_(workspace_ids))
        .group_by(OutcomeStateRecord.workspace_id, OutcomeStateRecord.status)
    )
    return [(int(w), str(s), int(n)) for w, s, n in session.execute(query)]
