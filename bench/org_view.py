"""The organisation view at scale, on PostgreSQL: 50 workspaces x 100 outcomes x 100,000 work items
(5 million items), each workspace with 20 people's latest analysis. Prints the time the view takes
(median and worst of 5), `guarantor org --json` end to end, and what keeping a team's count of
items per AI exposure costs after each import (the GROUP BY over its 100,000 items).

The database is GUARANTOR_BENCH_DATABASE_URL (a PostgreSQL server URL; a database is created on
it and dropped after), else the throw-away server `scripts/postgres` starts.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import UTC, datetime

import psycopg
from _common import ROOT, postgres_database, report, run_measured
from sqlalchemy.engine import make_url

from guarantor.analysis import org
from guarantor.db.session import Database
from guarantor.work.service import keep_counts

STATUSES = ("MET", "MET", "MET", "AT_RISK", "BROKEN", "NO_DATA", "ERROR")


def fill(url: str, teams: int, outcomes: int, items: int) -> None:
    """Every workspace's rows, written by the server itself (generate_series): what the view reads."""
    plain = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    with psycopg.connect(plain) as conn:
        for w in range(1, teams + 1):
            conn.execute(
                "INSERT INTO workspaces (id, key, name, path, created_at, outcomes, guaranteed, systems, "
                "systems_blocked, work_items, orphan_items, balanced_at) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, 5, %s, %s, %s, %s)",
                (w, f"team-{w:02}", f"Team {w:02}", f"/teams/{w:02}/guarantor.yaml", now, outcomes,
                 outcomes * 6 // 10, w % 4, items, items // (3 + w % 5), now),
            )  # fmt: skip
            conn.execute(
                "INSERT INTO analyses (workspace_id, created_at, workspace_name, workspace_path, workspace_hash, "
                "model_version, hours_week, hours_freed, result) VALUES (%s, %s, %s, %s, 'h', 'm', 800, %s, '{}')",
                (w, now, f"Team {w:02}", f"/teams/{w:02}/guarantor.yaml", 40 + w),
            )
            conn.execute(
                "INSERT INTO outcome_states (workspace_id, outcome_id, status, since, updated_at) "
                "SELECT %s, 'outcome-' || g, (%s::text[])[1 + (g %% 7)], %s, %s FROM generate_series(1, %s) g",
                (w, list(STATUSES), now, now, outcomes),
            )
            conn.execute(
                "INSERT INTO work_items (workspace_id, source, external_id, kind, title, body, state, closed, "
                "labels, components, links, exposure, content_hash, imported_at, size) "
                "SELECT %s, 'jira', 'W-' || g, 'Story', 'Item ' || g, '', 'Done', g %% 3 = 0, '[]', '[]', '[]', "
                "(ARRAY['E0', 'E1', 'E2', NULL])[1 + (g %% 4)], md5(g::text), %s, 0 FROM generate_series(1, %s) g",
                (w, now, items),
            )
            conn.commit()
        conn.execute("SELECT setval(pg_get_serial_sequence('workspaces', 'id'), %s)", (teams,))
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--teams", type=int, default=50)
    parser.add_argument("--outcomes", type=int, default=100)
    parser.add_argument("--items", type=int, default=100_000, help="work items per workspace")
    args = parser.parse_args()
    with postgres_database() as url:
        Database(url).close()  # the schema, migrated
        start = time.perf_counter()
        fill(url, args.teams, args.outcomes, args.items)
        loaded = time.perf_counter() - start
        db = Database(url)
        ids = list(range(1, args.teams + 1))
        times, counting = [], []
        try:
            for w in ids:  # what every import and sync does at its end
                start = time.perf_counter()
                with db.for_workspace(w).transaction() as session:
                    keep_counts(session)
                counting.append(time.perf_counter() - start)
            for _ in range(5):
                start = time.perf_counter()
                with db.transaction() as session:
                    view = org.view(session, ids, datetime.now(UTC))
                times.append(time.perf_counter() - start)
        finally:
            db.close()
        assert len(view.teams) == args.teams and view.total.work_items == args.teams * args.items
        env = {**os.environ, "GUARANTOR_DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
        cli_seconds, _ = run_measured([sys.executable, "-m", "guarantor", "org", "--json"], env)
        report(
            "org_view",
            {
                "workspaces": args.teams,
                "outcomes_per_workspace": args.outcomes,
                "work_items_total": args.teams * args.items,
                "load_seconds": loaded,
                "count_after_import_median_seconds": statistics.median(counting),
                "view_median_seconds": statistics.median(times),
                "view_max_seconds": max(times),
                "cli_org_json_seconds": cli_seconds,
            },
        )


if __name__ == "__main__":
    main()
