"""`guarantor check` on 1,000 indicators (100 outcomes of 10) against SQLite, and PostgreSQL when
GUARANTOR_BENCH_PG_URL is set: evaluations per second, p95 latency per evaluation, and the overhead
against running the same SQL directly (sequentially, on one connection) in the same run."""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from _common import report

from guarantor.db.session import Database
from guarantor.guarantees import runner
from guarantor.guarantees.models import Measurement
from guarantor.guarantees.sources.base import Context
from guarantor.workspace.loader import parse

ROWS = 200_000
KINDS = 50


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


def raw_seconds(url: str, qs: list[str]) -> float:
    """The same queries straight through the driver, one connection, one after another."""
    if url.startswith("sqlite"):
        conn = sqlite3.connect(url.removeprefix("sqlite:///"))
        start = time.perf_counter()
        for q in qs:
            conn.execute(q).fetchone()
        seconds = time.perf_counter() - start
        conn.close()
        return seconds
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg", "postgresql")) as conn:
        start = time.perf_counter()
        for q in qs:
            conn.execute(q).fetchone()
        return time.perf_counter() - start


def workspace(url: str, qs: list[str]) -> str:
    lines = ["name: Bench", "sources:", f"  db: {{type: sql, url: '{url}'}}", "outcomes:"]
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


def bench(name: str, url: str, store_url: str, n: int) -> dict[str, object]:
    qs = queries(n)
    raw = min(raw_seconds(url, qs) for _ in range(3))
    with tempfile.TemporaryDirectory() as tmp:
        ws, marks = parse(workspace(url, qs), "bench.yaml")
        db = Database(store_url)
        t = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=1)  # slots never used
        walls = []
        for k in range(3):  # each run fills a new hourly slot: a full evaluation of all indicators
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
    wall = min(walls)
    return {
        f"{name}_indicators": n,
        f"{name}_wall_seconds": wall,
        f"{name}_evaluations_per_second": n / wall,
        f"{name}_p95_eval_ms": statistics.quantiles(durations, n=20)[18],
        f"{name}_raw_sql_seconds": raw,
        f"{name}_overhead_per_eval_ms": (wall - raw) / n * 1000,
        f"{name}_overhead_to_raw_ratio": (wall - raw) / raw,
        f"{name}_statuses": ",".join(sorted(statuses)),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, default=1000)
    args = parser.parse_args()
    figures: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "events.db"
        make_sqlite(data)
        figures.update(bench("sqlite", f"sqlite:///{data}", f"sqlite:///{Path(tmp) / 'store.db'}", args.n))
        pg = os.environ.get("GUARANTOR_BENCH_PG_URL")
        if pg:
            make_postgres(pg)
            figures.update(bench("postgres", pg, pg, args.n))
    report("guarantees_check", figures)


if __name__ == "__main__":
    main()
