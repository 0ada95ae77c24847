"""The balance is added up in the database (SQLite, or PostgreSQL with GUARANTOR_TEST_DATABASE_URL)
from the links it keeps; here it is checked against the same figures computed item by item in
Python, the way a reader would count them, on items that cover every way an item is linked: labels,
epics, components, ``work.links``, decisions, several outcomes at once, none, no dates, a close
before the start."""

from __future__ import annotations

import json
import random
from collections import defaultdict
from pathlib import Path

import pytest
import yaml

from guarantor.work import repository
from guarantor.work.service import NO_OUTCOME, Balance, Linker, balance, decide
from guarantor.workspace import loader
from tests.scoped import workspace_db

OUTCOMES = ["payouts", "support", "checkout", "onboarding"]


def _workspace(folder: Path, epics: dict[str, str]) -> Path:
    doc = {
        "name": "Balance",
        "outcomes": [
            {"id": o, "title": f"The {o} outcome", "for_whom": "Merchants", "need": "It works"} for o in OUTCOMES
        ],
        "work": {
            "epics": epics,
            "components": {"Helpdesk": "support"},
            "labels": {"checkout-flow": "checkout"},
            "links": [{"item": "csv:I-3", "outcome": "onboarding"}],
        },
    }
    path = folder / "guarantor.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def _items(path: Path, n: int) -> None:
    rng = random.Random(7)
    rows = ["id,title,state,labels,epic,components,estimate,created_at,started_at,closed_at"]
    for i in range(n):
        labels = ";".join(
            rng.sample(
                ["outcome:payouts", "outcome:support", "checkout-flow", "chore", "outcome:gone"], rng.randrange(3)
            )
        )
        created = f"2026-{rng.randrange(1, 13):02d}-{rng.randrange(1, 28):02d}T{rng.randrange(24):02d}:00:00Z"
        started = f"2026-{rng.randrange(1, 13):02d}-{rng.randrange(1, 28):02d}T08:30:00Z" if rng.random() < 0.5 else ""
        closed = f"2026-{rng.randrange(1, 13):02d}-{rng.randrange(1, 28):02d}T17:15:30Z" if rng.random() < 0.6 else ""
        if rng.random() < 0.05:
            created = started = closed = ""  # undated
        rows.append(
            ",".join(
                [
                    f"I-{i}",
                    f"Item {i}",
                    "done" if closed else "open",
                    labels,
                    rng.choice(["EPIC-PAY", "EPIC-X", ""]),
                    rng.choice(["Helpdesk", "Other", ""]),
                    rng.choice(["", "1", "2", "3", "5", "8", "0.5"]),
                    created,
                    started,
                    closed,
                ]
            )
        )
    path.write_text("\n".join(rows) + "\n")


def _by_hand(session, ws) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """Every figure of the balance, counted item by item."""
    linker = Linker(ws, repository.decisions(session))
    by_outcome: dict[str, list[float]] = defaultdict(lambda: [0, 0.0, 0.0])
    by_month: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0, 0.0, 0.0])
    by_exposure: dict[str, list[float]] = defaultdict(lambda: [0, 0.0, 0.0])
    orphans: list[tuple[float, int, str]] = []
    closed: dict[str, list[tuple[str, str]]] = defaultdict(list)
    columns = ("id", "source", "external_id", "labels", "epic", "components", "estimate")
    columns += ("created_at", "started_at", "closed_at", "exposure")
    for i, source, ext, labels, epic, components, estimate, created, started, closed_at, exposure in repository.iterate(
        session, columns
    ):
        outcomes = linker.outcomes_of(source, ext, json.loads(labels), epic, json.loads(components))
        begun = started or created
        days = (closed_at - begun).total_seconds() / 86400 if closed_at and begun and closed_at >= begun else None
        share = 1 / len(outcomes) if outcomes else 1.0
        when = closed_at or created
        month = when.strftime("%Y-%m") if when else "undated"
        for o in outcomes or {NO_OUTCOME}:
            for bucket in (by_outcome[o], by_month[(month, o)]):
                bucket[0] += 1
                bucket[1] += share * (estimate or 0.0)
                bucket[2] += share * (days or 0.0)
            if closed_at and o != NO_OUTCOME:
                closed[o].append((closed_at.isoformat(), f"{source}:{ext}"))
        e = by_exposure[exposure or "unknown"]
        e[0], e[1], e[2] = e[0] + 1, e[1] + (estimate or 0.0), e[2] + (days or 0.0)
        if not outcomes:
            orphans.append((-((estimate or 0.0) * 1000 + (days or 0.0)), i, f"{source}:{ext}"))
    return {
        "by_outcome": {k: (v[0], v[1], v[2]) for k, v in by_outcome.items()},
        "by_month": {k: (v[0], v[1], v[2]) for k, v in by_month.items()},
        "by_exposure": {k: (v[0], v[1], v[2]) for k, v in by_exposure.items()},
        "orphans": [item for *_, item in sorted(orphans)[:25]],
        "closed": {k: sorted(v)[-200:] for k, v in closed.items()},
    }


def _same(found: dict[str, object], expected: dict[str, object]) -> bool:
    """Equal, the sums to 1e-9: the database adds in its own order."""
    assert found.keys() == expected.keys()
    for key, value in found.items():
        if isinstance(value, dict):
            other = expected[key]
            assert isinstance(other, dict) and value.keys() == other.keys(), key
            for k, v in value.items():
                close = key == "closed" or v == pytest.approx(other[k], rel=1e-9, abs=1e-9)
                assert close and (key != "closed" or v == other[k]), (key, k)
        else:
            assert value == expected[key], key
    return True


def _figures(b: Balance) -> dict[str, object]:
    return {
        "by_outcome": {k: (v.count, v.points, v.days) for k, v in b.by_outcome.items()},
        "by_month": {(m, k): (v.count, v.points, v.days) for m, d in b.by_month.items() for k, v in d.items()},
        "by_exposure": {k: (v.count, v.points, v.days) for k, v in b.by_exposure.items()},
        "orphans": [o.item for o in b.orphans],
        "closed": b.closed_by_outcome,
    }


@pytest.fixture
def imported(cli, env, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    path = _workspace(tmp_path, {"EPIC-PAY": "payouts"})
    _items(tmp_path / "items.csv", 1500)
    assert cli("import", "csv", str(tmp_path / "items.csv"), "-w", str(tmp_path), "--no-exposure").code == 0
    return path


def _balance_and_by_hand(env, path: Path) -> tuple[dict[str, object], dict[str, object]]:  # type: ignore[no-untyped-def]
    ws = loader.load(path)
    db = workspace_db(env.resolved_database_url, path)
    try:
        with db.transaction() as session:
            return _figures(balance(session, ws)), _by_hand(session, ws)
    finally:
        db.close()


def test_the_balance_added_up_in_the_database_is_the_one_counted_by_hand(env, imported: Path) -> None:  # type: ignore[no-untyped-def]
    found, expected = _balance_and_by_hand(env, imported)
    assert _same(found, expected)
    by_outcome = found["by_outcome"]
    assert isinstance(by_outcome, dict) and set(by_outcome) == {*OUTCOMES, NO_OUTCOME}  # each way of linking occurs
    assert ("undated", NO_OUTCOME) in found["by_month"]  # type: ignore[operator]


def test_changed_rules_and_decisions_change_the_kept_links(cli, env, imported: Path) -> None:  # type: ignore[no-untyped-def]
    before, _ = _balance_and_by_hand(env, imported)
    _workspace(imported.parent, {"EPIC-PAY": "payouts", "EPIC-X": "checkout"})  # a rule added in the file
    after, expected = _balance_and_by_hand(env, imported)
    assert _same(after, expected) and after["by_outcome"] != before["by_outcome"]

    ws = loader.load(imported)
    db = workspace_db(env.resolved_database_url, imported)
    try:
        with db.transaction() as session:
            orphan = balance(session, ws).orphans[0].item
            decide(session, ws, orphan, "onboarding", "accepted", ws_now())
            decide(session, ws, "csv:I-3", "onboarding", "rejected", ws_now())  # against work.links
            assert orphan not in [o.item for o in balance(session, ws).orphans]
            assert _same(_figures(balance(session, ws)), _by_hand(session, ws))
    finally:
        db.close()

    # an import that does not know the workspace (a sync) marks the links out of date: still right after
    _items(imported.parent / "more.csv", 1700)
    assert (
        cli("import", "csv", str(imported.parent / "more.csv"), "-w", str(imported.parent), "--no-exposure").code == 0
    )
    db = workspace_db(env.resolved_database_url, imported)
    try:
        with db.transaction() as session:
            from guarantor.workspace import repository as workspaces

            workspaces.save_links_rules(session, None)
            assert _same(_figures(balance(session, ws)), _by_hand(session, ws))
            assert workspaces.links_rules(session) == Linker.rules(ws)
    finally:
        db.close()


def ws_now():  # type: ignore[no-untyped-def]
    from guarantor.clock import utcnow

    return utcnow()


def test_items_of_an_older_database_get_the_facts_an_import_gives_them(env) -> None:  # type: ignore[no-untyped-def]
    """Migration 0012 works out month, days and size in SQL for the items already stored; they are
    what an import works out for the same items (``repository.derived``), zones and edges included."""
    from datetime import UTC, datetime, timedelta, timezone

    from alembic import command
    from sqlalchemy import MetaData, create_engine, insert, select

    from guarantor.db.session import alembic_config
    from guarantor.work.importers.base import Item

    at = datetime(2026, 1, 31, 23, 30, tzinfo=timezone(timedelta(hours=-2)))  # February in UTC
    items = [
        Item(
            "csv", "closed", "t", created_at=at, started_at=at + timedelta(days=1), closed_at=at + timedelta(days=3.5)
        ),
        Item("csv", "no-start", "t", created_at=at, closed_at=at + timedelta(hours=7), estimate=5),
        Item("csv", "closed-before-start", "t", created_at=at, started_at=at + timedelta(days=2), closed_at=at),
        Item("csv", "open", "t", created_at=datetime(2025, 12, 31, 23, 59, tzinfo=UTC), estimate=0.5),
        Item("csv", "undated", "t", estimate=8),
    ]
    url = env.resolved_database_url
    command.upgrade(alembic_config(url), "0011")
    engine = create_engine(url)
    try:
        tables = MetaData()
        tables.reflect(engine)
        table = tables.tables["work_items"]
        now = datetime(2026, 11, 24, tzinfo=UTC)
        with engine.begin() as conn:
            workspace = conn.execute(
                insert(tables.tables["workspaces"]).returning(tables.tables["workspaces"].c.id),
                [{"name": "Old", "created_at": now, "outcomes": 0, "guaranteed": 0, "systems": 0}],
            ).scalar_one()
            rows = [
                dict(zip(repository._WRITTEN, (*repository.row(item, now, workspace), None), strict=True))
                for item in items
            ]
            utc = [{k: v.astimezone(UTC) if isinstance(v, datetime) else v for k, v in r.items()} for r in rows]
            conn.execute(  # in UTC, as the application's own column type stores times
                insert(table), [{k: v for k, v in r.items() if k in table.c} for r in utc]
            )
        command.upgrade(alembic_config(url), "head")
        tables = MetaData()
        tables.reflect(engine)
        table = tables.tables["work_items"]
        with engine.connect() as conn:
            stored = {
                e: (m, d, s)
                for e, m, d, s in conn.execute(select(table.c.external_id, table.c.month, table.c.days, table.c.size))
            }
    finally:
        engine.dispose()
    for item in items:
        month, days, size = repository.derived(item)
        assert stored[item.external_id][0] == month, item.external_id
        assert stored[item.external_id][1] == (None if days is None else pytest.approx(days, abs=1e-6)), (
            item.external_id
        )
        assert stored[item.external_id][2] == pytest.approx(size, abs=1e-6), item.external_id
    assert [repository.derived(i)[0] for i in items] == ["2026-02", "2026-02", "2026-02", "2025-12", None]
    assert [repository.derived(i)[1] for i in items] == [2.5, pytest.approx(7 / 24), None, None, None]
    assert [repository.derived(i)[2] for i in items] == [2.5, pytest.approx(5000 + 7 / 24), 0.0, 500.0, 8000.0]


def test_the_balance_table_shows_its_figures_as_people_read_them(cli, imported: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Rounded with thousands separators (4,852 days, not 4852; 2,849,433 points, not 2.84943e+06),
    each the figure `--json` gives for machines (a table, on a terminal of 120 columns)."""
    from guarantor.console import out
    from guarantor.guarantees import display

    monkeypatch.setattr(out, "_width", 120)
    figures = json.loads(cli("balance", str(imported.parent), "--json").out)["by_outcome"]
    table = cli("balance", str(imported.parent)).out
    row = next(line for line in table.splitlines() if "no outcome" in line)
    cells = [cell.strip() for cell in row.split("│")[1:-1]]
    shown = figures["no outcome"]
    assert cells[1:] == [
        f"{shown['count']:,}",
        cells[2],
        display.number(shown["points"]),
        display.number(shown["days"], precision=0),
        "0",
    ]
    assert "," in cells[4] and shown["days"] >= 1000


def test_an_export_read_in_a_second_process_is_written_as_one_read_here(cli, env, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A large export is read and prepared in a second process (``work.reader``): every column
    (bar the time of the import) and every link must be what reading it here gives."""
    import multiprocessing

    from sqlalchemy import text

    from guarantor.db import scope
    from guarantor.work import reader

    _items(tmp_path / "items.csv", 1500)
    written = {}
    for name, apart_from in (("here", 2**40), ("apart", 0)):
        folder = tmp_path / name
        folder.mkdir()
        path = _workspace(folder, {"EPIC-PAY": "payouts"})
        path.write_text(path.read_text() + f"key: {name}\n")  # two workspaces side by side in one database
        monkeypatch.setattr(reader, "APART_FROM_BYTES", apart_from)
        assert cli("import", "csv", str(tmp_path / "items.csv"), "-w", str(folder)).code == 0
        assert not multiprocessing.active_children()
        db = workspace_db(env.resolved_database_url, path)
        try:
            with db.transaction() as session:
                workspace = {"w": scope.current(session)}
                columns = [c for c in repository._WRITTEN if c not in ("workspace_id", "imported_at")]
                items = session.execute(
                    text(f"SELECT {', '.join(columns)} FROM work_items WHERE workspace_id = :w ORDER BY external_id"),
                    workspace,
                ).all()
                links = session.execute(
                    text(
                        "SELECT i.external_id, l.outcome_id, l.share FROM work_links l JOIN work_items i"
                        " ON i.id = l.item_id WHERE l.workspace_id = :w ORDER BY 1, 2"
                    ),
                    workspace,
                ).all()
        finally:
            db.close()
        written[name] = ([tuple(r) for r in items], [tuple(r) for r in links])  # as the import left them
        found, expected = _balance_and_by_hand(env, path)
        assert _same(found, expected)
    assert len(written["here"][0]) == 1500 and written["here"][1]
    assert written["apart"] == written["here"]


def test_balance_by_month_has_a_row_per_month_with_the_share_serving_an_outcome(
    cli, imported: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """Swarmia's month-by-month view in the terminal: each row's figures are the ones `--json` gives."""
    from guarantor.console import out
    from guarantor.guarantees import display

    monkeypatch.setattr(out, "_width", 120)
    months = json.loads(cli("balance", str(imported.parent), "--json").out)["by_month"]
    table = cli("balance", str(imported.parent), "--by-month").out
    rows = {cells[0]: cells for line in table.splitlines() if (cells := [c.strip() for c in line.split("│")[1:-1]])}
    assert len(months) >= 2 and set(rows) == set(months)
    for month, outcomes in months.items():
        items = sum(b["count"] for b in outcomes.values())
        served = items - outcomes.get("no outcome", {"count": 0})["count"]
        points = display.number(sum(b["points"] for b in outcomes.values()))
        assert rows[month][1:4] == [f"{items:,}", points, f"{served / items:.0%}"], month


def test_balance_without_work_says_how_to_import_some(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Not empty headings ("By kind of work: "), which read as no effort at all."""
    (tmp_path / "guarantor.yaml").write_text("name: Nothing yet\n")
    for args in ([], ["--by-month"]):
        r = cli("balance", str(tmp_path), *args)
        assert r.code == 0 and r.out.startswith("No work imported yet: `guarantor import jira"), r.out
