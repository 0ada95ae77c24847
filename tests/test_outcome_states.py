"""Outcome states are counted by the database (SQLite, or PostgreSQL with
GUARANTOR_TEST_DATABASE_URL): each indicator's latest measurement in its outcome's window and the
tallies its error budget asks for. Here they are checked against the same states derived in Python
from every measurement, as a reader would: on histories that mix statuses, a changed spec, check-ins
recorded for an earlier time, windows of every kind, indicators measured only before their window
and never."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

from guarantor.guarantees import budget as budgets
from guarantor.guarantees import repository
from guarantor.guarantees.models import Measurement, Status
from guarantor.guarantees.service import hash_of, outcome_states
from guarantor.workspace import loader
from tests.scoped import workspace_db

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
WINDOWS = [
    "1d",
    "7d",
    "28d",
    {"calendar": "month", "timezone": "Europe/Paris"},
    {"calendar": "week", "timezone": "UTC"},
]


def _workspace(folder: Path) -> Path:
    outcomes = []
    for o, window in enumerate(WINDOWS * 2):
        indicators: list[dict[str, object]] = [
            {"id": f"o{o}-q{i}", "source": "db", "query": f"SELECT {i}", "target": ">= 1"} for i in range(3)
        ]
        indicators.append({"id": f"o{o}-manual", "type": "manual", "target": ">= 4"})
        guarantee: dict[str, object] = {"schedule": "1h", "window": window, "indicators": indicators}
        if o % 2 == 0:
            guarantee["objective"] = "95%"
        outcomes.append({"id": f"o{o}", "title": f"Outcome {o}", "for_whom": "Someone", "guarantee": guarantee})
    path = folder / "guarantor.yaml"
    path.write_text(
        yaml.safe_dump({"name": "States", "sources": {"db": {"type": "sql", "url": "sqlite://"}}, "outcomes": outcomes})
    )
    return path


def _history(ws, rng: random.Random) -> list[Measurement]:  # type: ignore[no-untyped-def]
    statuses = [s.value for s in Status]
    out = []
    for o in ws.outcomes:
        for ind in o.guarantee.indicators:
            current = hash_of(ws, ind)
            if ind.id.endswith("q2") and o.id.endswith("1"):
                continue  # never measured
            for k in range(rng.randrange(0, 120)):
                measured = NOW - timedelta(hours=rng.uniform(0, 24 * 40))
                if ind.id.endswith("q1") and o.id.endswith("3"):
                    measured -= timedelta(days=60)  # only before its window
                scheduled = measured - timedelta(days=rng.uniform(0, 10)) if ind.manual else measured
                out.append(
                    _measured(
                        o.id,
                        ind.id,
                        current if rng.random() < 0.8 else "an-older-spec",
                        measured,
                        rng.choice(statuses),
                        f"r{k}",
                        scheduled=scheduled.replace(microsecond=k),  # each slot once
                    )
                )
    return out


def _measured(
    outcome: str,
    indicator: str,
    spec_hash: str,
    at: datetime,
    status: str,
    reason: str,
    scheduled: datetime | None = None,
) -> Measurement:
    return Measurement(
        outcome_id=outcome,
        indicator_id=indicator,
        spec_hash=spec_hash,
        scheduled_at=scheduled or at,
        measured_at=at,
        value="1",
        value_at=None,
        unit="",
        status=status,
        reason=reason,
        target=">= 1",
        source="db",
        trigger="schedule",
        duration_ms=1.0,
        tool_version="test",
    )


def _expected(ws, every: list[Measurement]):  # type: ignore[no-untyped-def]
    """Each outcome's (status, reason, budget, latest measurement of each indicator), from a list."""
    out = {}
    for o in ws.outcomes:
        g = o.guarantee
        since = budgets.window_start(g.window, NOW)
        hashes = {ind.id: hash_of(ws, ind) for ind in g.indicators}
        manual = {ind.id for ind in g.indicators if ind.manual}
        mine = sorted(
            (m for m in every if hashes.get(m.indicator_id) == m.spec_hash and m.measured_at >= since),
            key=lambda m: (m.measured_at, m.id),
        )
        latest: dict[str, Measurement] = {}
        for m in mine:
            known = latest.get(m.indicator_id)
            if known is None or m.indicator_id not in manual or m.scheduled_at >= known.scheduled_at:
                latest[m.indicator_id] = m
        for i in hashes.keys() - latest.keys():
            older = sorted((m for m in every if m.indicator_id == i), key=lambda m: (m.measured_at, m.id))
            if older and older[-1].spec_hash == hashes[i]:
                latest[i] = older[-1]

        def since_(t: datetime, mine: list[Measurement] = mine) -> budgets.Tally:
            statuses = [m.status for m in mine if m.measured_at >= t]
            good = sum(s in (Status.MET, Status.AT_RISK) for s in statuses)
            bad = statuses.count(Status.BROKEN)
            return budgets.Tally(good, bad, len(statuses) - good - bad)

        b = budgets.budget(g, since_, NOW)
        shown = {i: latest[i].id if i in latest else None for i in hashes if i not in manual}
        shown |= {i: latest[i].scheduled_at if i in latest else None for i in manual}  # the check-in's time
        out[o.id] = (b, shown, mine)
    return out


def test_states_counted_in_the_database_match_the_measurements(tmp_path: Path, database_url: str) -> None:
    path = _workspace(tmp_path)
    ws = loader.load(path)
    db = workspace_db(database_url, path)
    try:
        with db.transaction() as session:
            every = _history(ws, random.Random(3))
            repository.record(session, every, "nobody")
        with db.transaction() as session:
            every = list(repository.history(session, [i.id for o in ws.outcomes for i in o.guarantee.indicators]))
            states = {s.id: s for s in outcome_states(session, ws, NOW, history=True)}
            plain = {s.id: s for s in outcome_states(session, ws, NOW)}
        expected = _expected(ws, every)
        assert len(every) > 2000
        for o in ws.outcomes:
            b, latest, mine = expected[o.id]
            s = states[o.id]
            assert s.budget == b, o.id
            shown = {i.id: i.checked_in if i.manual else i.latest.id if i.latest else None for i in s.indicators}
            assert shown == latest, o.id
            assert [m.id for m in s.history] == [m.id for m in mine]
            assert (plain[o.id].status, plain[o.id].reason, plain[o.id].budget) == (s.status, s.reason, s.budget)
            assert plain[o.id].history == []
        assert any(b is not None and b.burn_alerts for b, _, _ in expected.values()), "the burn alerts are exercised"
        assert any(None in latest.values() for _, latest, _ in expected.values()), "so are the never measured"
    finally:
        db.close()


def test_each_workspace_counts_only_its_own_measurements(tmp_path: Path, database_url: str) -> None:
    """Two workspaces with the same indicator ids on one database: the newest measurement and the
    tallies of each are its own (the queries ask per indicator, from a table of constants)."""
    dbs = []
    for name, status in (("a", Status.MET), ("b", Status.BROKEN)):
        (tmp_path / name).mkdir()
        path = _workspace(tmp_path / name)
        path.write_text(path.read_text().replace("name: States", f"name: States {name}\nkey: states-{name}"))
        ws = loader.load(path)
        db = workspace_db(database_url, path)
        dbs.append((db, ws))
        o = ws.outcomes[0]
        ind = o.guarantee.indicators[0]
        hours = 1 if name == "b" else 2  # b's is the newer
        at = NOW - timedelta(hours=hours)
        with db.transaction() as session:
            repository.record(session, [_measured(o.id, ind.id, hash_of(ws, ind), at, status.value, name)], "nobody")
    try:
        for (db, ws), own in zip(dbs, ("a", "b"), strict=True):
            with db.transaction() as session:
                state = outcome_states(session, ws, NOW)[0]
            assert state.indicators[0].latest is not None and state.indicators[0].latest.reason == own
            assert state.budget is not None and (state.budget.good, state.budget.bad) == (
                (1, 0) if own == "a" else (0, 1)
            )
    finally:
        for db, _ in dbs:
            db.close()
