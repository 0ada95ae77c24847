"""`guarantor balance` on PostgreSQL at 10 million work items (``--items``), each run a fresh process:
seconds and peak memory (RSS) of the first balance, which links every item (as after a change of
the workspace's link rules), and of the next, which reads the links kept. The items are written by
the server itself (generate_series): a quarter labelled with an outcome, 70% closed, dates spread
over a year. Needs PostgreSQL (`scripts/postgres`, or GUARANTOR_BENCH_DATABASE_URL). No peer runs here.

    python bench/work_pg_scale.py                  # 10,000,000 items
    python bench/work_pg_scale.py --items 1000000
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
from _common import DATA_DIR, ROOT, postgres_database, report, run_measured
from sqlalchemy.engine import make_url

GUARANTOR = [sys.executable, "-m", "guarantor"]
OUTCOMES = ["payouts-on-time", "fast-support", "quick-delivery", "fast-checkout"]


def fill(plain: str, items: int) -> None:
    with psycopg.connect(plain) as conn:
        row = conn.execute("SELECT id FROM workspaces").fetchone()
        assert row is not None, "the workspace was not entered"
        conn.execute(
            "INSERT INTO work_items (workspace_id, source, external_id, kind, title, body, state, closed, created_at, "
            "closed_at, labels, estimate, components, links, exposure, content_hash, imported_at, month, days, size) "
            "SELECT %s, 'csv', 'W-' || g, 'Story', 'Item ' || g, '', "
            "CASE WHEN closed IS NULL THEN 'open' ELSE 'done' END, closed IS NOT NULL, created, closed, "
            "CASE WHEN g %% 4 = 0 THEN '[\"outcome:' || (%s::text[])[1 + (g / 4) %% 4] || '\"]' "
            "ELSE '[\"chore\"]' END, "
            "1 + g %% 5, '[]', '[]', (ARRAY['E0', 'E1', 'E2'])[1 + g %% 3], md5(g::text), now(), "
            # what an import keeps with each item (``work.repository.derived``)
            "to_char(timezone('UTC', coalesce(closed, created)), 'YYYY-MM'), days, "
            "(1 + g %% 5) * 1000 + coalesce(days, 0) "
            "FROM (SELECT g, created, closed, extract(epoch FROM closed - created) / 86400.0 AS days FROM ("
            "SELECT g, timestamptz '2026-01-01' + (g %% 525600) * interval '1 minute' AS created, "
            "CASE WHEN g %% 10 < 7 THEN timestamptz '2026-01-01' + (g %% 525600) * interval '1 minute' "
            "+ (1 + g %% 400) * interval '1 hour' END AS closed FROM generate_series(1, %s) g) t) s",
            (row[0], OUTCOMES, items),
        )
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE work_items")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=10_000_000)
    args = parser.parse_args()
    with postgres_database() as given, tempfile.TemporaryDirectory() as tmp:
        url = make_url(given)
        folder = Path(tmp)
        shutil.copy(ROOT / "examples" / "guarantees" / "guarantor.yaml", folder / "guarantor.yaml")
        env = {
            **os.environ,
            "GUARANTOR_DATA_DIR": str(DATA_DIR),
            "PYTHONPATH": str(ROOT),
            "GUARANTOR_DATABASE_URL": url.render_as_string(hide_password=False),
        }
        env.setdefault("GUARANTOR_HOME", str(ROOT / ".guarantor"))
        balance = [*GUARANTOR, "balance", str(folder), "--json"]
        subprocess.run(balance, env=env, check=True, capture_output=True)  # enters the workspace, no items yet
        start = time.perf_counter()
        fill(url.set(drivername="postgresql").render_as_string(hide_password=False), args.items)
        written = time.perf_counter() - start
        with psycopg.connect(url.set(drivername="postgresql").render_as_string(hide_password=False)) as conn:
            conn.execute("UPDATE workspaces SET links_rules = NULL")  # items written behind its back: link them all
        first, first_peak = run_measured(balance, env)
        again, again_peak = run_measured(balance, env)
    report(
        "work_pg_scale",
        {
            "items": args.items,
            "written_by_server_seconds": written,
            "first_balance_seconds": first,
            "first_balance_peak_mib": first_peak / 2**20,
            "balance_seconds": again,
            "balance_peak_mib": again_peak / 2**20,
        },
    )


if __name__ == "__main__":
    main()
