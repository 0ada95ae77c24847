"""`guarantor check` on 1,000 indicators (100 outcomes of 10) against SQLite, DuckDB (the `file`
source over Parquet) and PostgreSQL when GUARANTOR_BENCH_PG_URL is set: evaluations per second, p95
latency per evaluation, and the overhead against running the same SQL directly in the same run.

The peer is Soda Core 4 (soda-duckdb, soda-postgres), the same queries as `metric` checks, run in
its own venv (``--soda-python``, or one made in bench/.soda-venv on first use). Soda has no SQLite
data source: the SQLite figures are compared with Soda on DuckDB over the same rows."""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from _common import report
from sqlalchemy.dialects.sqlite import dialect as sqlite_dialect
from sqlalchemy.engine import make_url

from guarantor.db.base import UTCDateTime
from guarantor.guarantees import repository, runner, service
from guarantor.guarantees.models import Measurement
from guarantor.guarantees.sources.base import Context
from guarantor.workspace.loader import parse
from guarantor.workspace.session import workspace_database

ROWS = 200_000
KINDS = 50
ROUNDS = 5


def queries(n: int) -> list[str]:
    """Realistic indicator queries: an aggregate over one kind of event in a recent window."""
    rng = random.Random(1)
    out = []
    for i in range(n):
        kind, days = i % KINDS, rng.choice((1, 2, 7))
        agg = ("avg(value)", "count(*)", "max(value)", "sum(CASE WHEN value > 0.9 THEN 1 ELSE 0 END)")[i % 4]
        out.append(f"SELECT {agg} FROM events WHERE kind = {kind} AND day >= {30 - days}")
    return out


def make_sqlite(path: Path) -> None:
    rng = random.Random(2)
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE events (id INTEGER PRIMARY KEY, kind INTEGER, day INTEGER, value REAL)")
        db.executemany(
            "INSERT INTO events (kind, day, value) VALUES (?, ?, ?)",
            ((rng.randrange(KINDS), rng.randrange(31), rng.random()) for _ in range(ROWS)),
        )
        db.execute("CREATE INDEX ix_events_kind_day ON events (kind, day)")


def make_postgres(url: str) -> None:
    import psycopg

    rng = random.Random(2)
    with psycopg.connect(url.replace("postgresql+psycopg", "postgresql"), autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS events")
        conn.execute("CREATE TABLE events (id serial PRIMARY KEY, kind int, day int, value double precision)")
        with conn.cursor().copy("COPY events (kind, day, value) FROM STDIN") as copy:
            for _ in range(ROWS):
                copy.write_row((rng.randrange(KINDS), rng.randrange(31), rng.random()))
        conn.execute("CREATE INDEX ix_events_kind_day ON events (kind, day)")
        conn.execute("ANALYZE events")


def timed(conn: Any, qs: list[str]) -> float:
    """Seconds to run the queries one after another on an open connection (sqlite3, psycopg, DuckDB)."""
    start = time.perf_counter()
    for q in qs:
        conn.execute(q).fetchone()
    return time.perf_counter() - start


def raw_seconds(url: str, qs: list[str]) -> float:
    """The same queries straight through the driver, one connection, one after another."""
    if url.startswith("sqlite"):
        with closing(sqlite3.connect(url.removeprefix("sqlite:///"))) as conn:
            return timed(conn, qs)
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg", "postgresql")) as pg:
        return timed(pg, qs)


def workspace(source: str, qs: list[str]) -> str:
    lines = ["name: Bench", "sources:", f"  db: {source}", "outcomes:"]
    for o in range(len(qs) // 10):
        lines += [
            f"  - id: o{o}",
            f"    title: Outcome {o}",
            "    for_whom: Someone",
            "    guarantee:",
            "      schedule: 1h",
            "      indicators:",
        ]
        for i in range(10):
            n = o * 10 + i
            lines.append(f"        - {{id: i{n}, source: db, query: \"{qs[n]}\", target: '>= 0'}}")
    return "\n".join(lines) + "\n"


def bench_file(folder: Path, n: int) -> dict[str, object]:
    """The file source: the same queries over events.parquet through DuckDB."""
    import duckdb

    qs = [q.replace("FROM events", "FROM 'events.parquet'") for q in queries(n)]

    def raw() -> float:
        with closing(duckdb.connect()) as conn:
            conn.execute("SET file_search_path = ?", [str(folder)])
            return timed(conn, qs)

    return bench("file", "{type: file}", f"sqlite:///{folder / 'store-file.db'}", n, qs, raw, folder)


def bench(
    name: str,
    url: str,
    store_url: str,
    n: int,
    qs: list[str] | None = None,
    raw: Callable[[], float] | None = None,
    folder: Path | None = None,
) -> dict[str, object]:
    """Raw SQL and `check` take turns, best of ROUNDS each: on a shared machine a slow spell then
    touches both sides of the ratio. With the raw SQL measured once before all the checks, four runs
    within minutes of the same code gave PostgreSQL ratios from 0.39 to 0.62; taking turns, 0.41-0.47."""
    queries_ = qs if qs is not None else queries(n)
    measure_raw = raw or (lambda: raw_seconds(url, queries_))
    source = url if url.startswith("{") else f"{{type: sql, url: '{url}'}}"
    with tempfile.TemporaryDirectory() as scratch:
        tmp = str(folder or scratch)
        ws, marks = parse(workspace(source, queries_), "bench.yaml")
        db = workspace_database(store_url, Path(tmp) / "bench.yaml", ws)  # scoped, as `guarantor check` is
        # Slots no earlier run used, so every indicator is due (PostgreSQL keeps the previous run's history).
        t = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=random.randrange(1, 10**5))
        walls, raws = [], []
        for k in range(ROUNDS):  # each run fills a new hourly slot: a full evaluation of all indicators
            raws.append(measure_raw())
            start = time.perf_counter()
            r = runner.check(
                db,
                ws,
                marks,
                "bench.yaml",
                Context(Path(tmp), False),
                lambda k=k: t + timedelta(hours=k),
                workers=int(os.environ.get("WORKERS", "8")),
            )
            walls.append(time.perf_counter() - start)
            assert r.evaluated == n, f"{r.evaluated} of {n} evaluated, {r.skipped} skipped"
        with db.transaction() as s:
            durations = [m.duration_ms for m in s.query(Measurement)]
            statuses = {m.status for m in s.query(Measurement)}
        db.close()
    wall, raw_best = min(walls), min(raws)
    return {
        f"{name}_indicators": n,
        f"{name}_wall_seconds": wall,
        f"{name}_evaluations_per_second": n / wall,
        f"{name}_p95_eval_ms": statistics.quantiles(durations, n=20)[18],
        f"{name}_raw_sql_seconds": raw_best,
        f"{name}_overhead_per_eval_ms": (wall - raw_best) / n * 1000,
        f"{name}_overhead_to_raw_ratio": (wall - raw_best) / raw_best,
        f"{name}_statuses": ",".join(sorted(statuses)),
    }


def bench_states(folder: Path, n: int, hours: int = 24 * 28) -> dict[str, object]:
    """Outcome states (what every check, page and report derives) over a full window: 28 days of
    hourly measurements of n indicators, with an error budget, so the tallies are counted too."""
    qs = queries(n)
    text = workspace("{type: sql, url: 'sqlite://'}", qs).replace(
        "      schedule: 1h\n", "      schedule: 1h\n      window: 28d\n      objective: 95%\n"
    )
    ws, _ = parse(text, "states.yaml")
    db = workspace_database(f"sqlite:///{folder / 'states.db'}", folder / "states.yaml", ws)
    now = datetime(2026, 11, 24, tzinfo=UTC)
    statuses = ("MET",) * 18 + ("AT_RISK", "BROKEN")
    rng = random.Random(4)
    hashes = {ind.id: service.hash_of(ws, ind) for o in ws.outcomes if o.guarantee for ind in o.guarantee.indicators}
    with db.transaction() as session:  # one measurement, written as Guarantor writes them, for its row's format
        repository.record(session, [_measurement(i, hashes[i], now, "MET") for i in list(hashes)[:1]], "bench")
    with sqlite3.connect(folder / "states.db") as raw:  # the rest copied from it in one executemany
        columns = [r[1] for r in raw.execute("PRAGMA table_info(measurements)") if r[1] != "id"]
        first = dict(
            zip(columns, raw.execute(f"SELECT {', '.join(columns)} FROM measurements").fetchone(), strict=True)
        )
        dialect = sqlite_dialect()
        stored = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)  # the text Guarantor writes
        assert stored is not None
        stamps = [stored(now - timedelta(hours=h)) for h in range(hours)]
        at = {
            c: columns.index(c)
            for c in ("indicator_id", "spec_hash", "outcome_id", "scheduled_at", "measured_at", "status")
        }
        row = list(first.values())

        def rows() -> Iterator[tuple[object, ...]]:
            for stamp in stamps:
                row[at["scheduled_at"]] = row[at["measured_at"]] = stamp
                for k, (i, spec) in enumerate(hashes.items()):
                    row[at["indicator_id"]], row[at["spec_hash"]], row[at["outcome_id"]] = i, spec, f"o{k // 10}"
                    row[at["status"]] = rng.choice(statuses)
                    yield tuple(row)

        marks = ", ".join("?" * len(columns))
        raw.executemany(f"INSERT OR IGNORE INTO measurements ({', '.join(columns)}) VALUES ({marks})", rows())
    seconds = []
    for _ in range(3):
        start = time.perf_counter()
        with db.transaction() as session:
            states = service.outcome_states(session, ws, now)
        seconds.append(time.perf_counter() - start)
    db.close()
    assert all(s.budget is not None and s.budget.good + s.budget.bad for s in states)
    return {"states_measurements": n * hours, "states_seconds": min(seconds)}


def _measurement(indicator: str, spec_hash: str, at: datetime, status: str) -> Measurement:
    return Measurement(
        outcome_id="o0",
        indicator_id=indicator,
        spec_hash=spec_hash,
        scheduled_at=at,
        measured_at=at,
        value="1",
        value_at=None,
        unit="",
        status=status,
        reason="",
        target=">= 0",
        source="db",
        trigger="schedule",
        duration_ms=1.0,
        tool_version="bench",
    )


def soda_python(asked: str | None) -> str | None:
    if asked:
        return asked
    venv = Path(__file__).parent / ".soda-venv"
    python = venv / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        done = subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "soda-duckdb==4.28.0", "soda-postgres==4.28.0"],
            capture_output=True,
        )
        if done.returncode != 0:
            print("Soda Core could not be installed; no peer figures.", file=sys.stderr)
            return None
    return str(python)


def soda(python: str, folder: Path, data_source: str, dataset: str, qs: list[str]) -> float:
    """Seconds Soda Core takes to verify the same queries as one contract of metric checks."""
    (folder / "ds.yml").write_text(data_source)
    lines = [f"dataset: {dataset}", "columns:", "  - name: value", "checks:"]
    for i, q in enumerate(qs):
        lines += [
            "  - metric:",
            f"      qualifier: q{i}",
            f'      query: "{q}"',
            "      threshold:",
            "        must_be_greater_than_or_equal: 0",
        ]
    (folder / "contract.yml").write_text("\n".join(lines) + "\n")
    runs = []
    for _ in range(3):
        out = subprocess.run(
            [python, str(Path(__file__).parent / "soda_peer.py"), str(folder / "ds.yml"), str(folder / "contract.yml")],
            capture_output=True,
            text=True,
            check=True,
        )
        result = json.loads(out.stdout.strip().splitlines()[-1])
        if result["passed"] != len(qs):
            raise SystemExit(f"Soda did not pass every check: {result}")
        runs.append(float(result["seconds"]))
    return min(runs)


def make_duckdb(sqlite_file: Path, folder: Path) -> None:
    """The same rows as a Parquet file (for Guarantor's file source) and a DuckDB database (for Soda)."""
    import duckdb

    with (folder / "events.csv").open("w", newline="") as out:
        csv.writer(out).writerows(
            [
                ("id", "kind", "day", "value"),
                *sqlite3.connect(sqlite_file).execute("SELECT id, kind, day, value FROM events"),
            ]
        )
    with duckdb.connect(str(folder / "events.duckdb")) as conn:
        conn.execute(f"CREATE TABLE events AS SELECT * FROM read_csv('{folder / 'events.csv'}')")
        conn.execute(f"COPY events TO '{folder / 'events.parquet'}' (FORMAT parquet)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, default=1000)
    parser.add_argument("--soda-python", help="Python of a venv with soda-duckdb and soda-postgres 4.x")
    parser.add_argument("--no-soda", action="store_true")
    args = parser.parse_args()
    figures: dict[str, object] = {}
    peer = None if args.no_soda else soda_python(args.soda_python)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        data = folder / "events.db"
        make_sqlite(data)
        figures.update(bench("sqlite", f"sqlite:///{data}", f"sqlite:///{folder / 'store.db'}", args.n))
        figures.update(bench_states(folder, args.n))
        make_duckdb(data, folder)
        figures.update(bench_file(folder, args.n))
        if peer:
            ds = f"type: duckdb\nname: benchduck\nconnection:\n  database: '{folder / 'events.duckdb'}'\n"
            seconds = soda(peer, folder, ds, "benchduck/events.duckdb/main/events", queries(args.n))
            figures.update(
                {
                    "soda_duckdb_seconds": seconds,
                    "sqlite_speedup_over_soda_duckdb": seconds / float(figures["sqlite_wall_seconds"]),
                    "file_speedup_over_soda_duckdb": seconds / float(figures["file_wall_seconds"]),
                }
            )
        pg = os.environ.get("GUARANTOR_BENCH_PG_URL")
        if pg:
            make_postgres(pg)
            figures.update(bench("postgres", pg, pg, args.n))
            if peer:
                u = make_url(pg)
                ds = (
                    f"type: postgres\nname: benchpg\nconnection:\n  host: {u.host}\n  port: {u.port or 5432}\n"
                    f"  database: {u.database}\n  user: {u.username}\n  password: '{u.password or 'unused'}'\n"
                    "  sslmode: disable\n"
                )
                seconds = soda(peer, folder, ds, f"benchpg/{u.database}/public/events", queries(args.n))
                figures.update(
                    {
                        "soda_postgres_seconds": seconds,
                        "postgres_speedup_over_soda": seconds / float(figures["postgres_wall_seconds"]),
                    }
                )
    report("guarantees_check", figures)


if __name__ == "__main__":
    main()
