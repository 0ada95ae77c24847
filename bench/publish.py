"""Publish a run's figures: merge the JSON lines the benchmarks printed into `bench/published.jsonl`
and write the README's performance table from it, so the table never says what no run measured.

    python bench/work_scale.py | tee run.txt; python bench/publish.py run.txt
    python bench/publish.py            # only rewrite the table from bench/published.jsonl

Each row names the benchmark and the figures it shows; a row whose figures the last published run
of its benchmark lacks says so instead of keeping an old number.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Mapping
from pathlib import Path

from _common import PUBLISHED, ROOT

README = ROOT / "README.md"
BEGIN = "<!-- performance table: written by bench/publish.py from bench/published.jsonl -->"
END = "<!-- end of performance table -->"

Figures = Mapping[str, object]
X = "\u00d7"  # the multiplication sign, as the README writes ratios


def _f(figures: Figures, key: str) -> float:
    value = figures[key]
    assert isinstance(value, int | float), key
    return float(value)


DATABASES = {"sqlite": "SQLite", "postgresql": "PostgreSQL 15"}
ROWS: list[tuple[str, str, Callable[[Figures], str]]] = [
    (
        "classify_throughput",
        "`guarantor classify` on all O*NET tasks, process start and model load included",
        lambda f: (
            f"{_f(f, 'tasks'):,.0f} tasks: {_f(f, 'tasks_per_second'):,.0f} tasks/s, "
            f"{_f(f, 'peak_rss_mib'):.0f} MiB peak"
        ),
    ),
    (
        "classify_throughput",
        "the same on a large file (memory stays flat)",
        lambda f: (
            f"{_f(f, 'large_rows'):,.0f} rows: {_f(f, 'large_tasks_per_second'):,.0f} tasks/s, "
            f"{_f(f, 'large_peak_rss_mib'):.0f} MiB peak"
        ),
    ),
    (
        "cli_start",
        "`guarantor --help`, process start included (its imports alone)",
        lambda f: (
            f"{_f(f, 'guarantor_help_s'):.2f} s ({_f(f, 'guarantor_imports_s'):.2f} s); "
            f"to the first row of `classify`: {_f(f, 'classify_one_row_s'):.2f} s"
        ),
    ),
    (
        "model_quality",
        "`guarantor model eval`: both stages cross-validated, nested, on unseen occupations",
        lambda f: (
            f"{_f(f, 'cv_seconds'):.0f} s; accuracy {_f(f, 'accuracy'):.3f}, kappa {_f(f, 'kappa'):.3f} "
            f"(GPT-4's labels: {_f(f, 'gpt4_accuracy'):.3f}, {_f(f, 'gpt4_kappa'):.3f})"
        ),
    ),
    (
        "guarantees_check",
        "`guarantor check`, 1,000 SQL indicators on SQLite",
        lambda f: (
            f"{_f(f, 'sqlite_wall_seconds'):.2f} s ({_f(f, 'sqlite_evaluations_per_second'):,.0f} "
            f"evaluations/s), overhead {_f(f, 'sqlite_overhead_to_raw_ratio'):.2f}{X} the raw query time"
        ),
    ),
    (
        "guarantees_check",
        "the same on PostgreSQL 15, beside Soda Core 4.28 on the same queries",
        lambda f: (
            f"{_f(f, 'postgres_wall_seconds'):.2f} s, overhead {_f(f, 'postgres_overhead_to_raw_ratio'):.2f}{X}; "
            f"Soda Core: {_f(f, 'soda_postgres_seconds'):.2f} s ({_f(f, 'postgres_speedup_over_soda'):.1f}{X} slower)"
        ),
    ),
    (
        "guarantees_check",
        "the same through the `file` source (DuckDB over Parquet), beside Soda Core on DuckDB",
        lambda f: (
            f"{_f(f, 'file_wall_seconds'):.2f} s, overhead {_f(f, 'file_overhead_to_raw_ratio'):.2f}{X}; "
            f"Soda Core: {_f(f, 'soda_duckdb_seconds'):.2f} s ({_f(f, 'file_speedup_over_soda_duckdb'):.1f}{X} slower; "
            f"{_f(f, 'sqlite_speedup_over_soda_duckdb'):.1f}{X} slower than Guarantor on SQLite)"
        ),
    ),
    (
        "guarantees_check",
        "outcome states (every check, page and report) of those 1,000 indicators over a 28-day window",
        lambda f: (
            f"{_f(f, 'states_seconds'):.2f} s for {_f(f, 'states_measurements'):,.0f} hourly measurements, "
            "error budgets counted"
        ),
    ),
    (
        "work_scale",
        "`guarantor import csv` then `guarantor balance`, 1,000,000 work items (exposure classified at import)",
        lambda f: (
            f"{_f(f, 'import_1000000_seconds'):.0f} s + {_f(f, 'balance_1000000_seconds'):.0f} s, "
            f"{_f(f, 'import_1000000_peak_mib'):.0f} / {_f(f, 'balance_1000000_peak_mib'):.0f} MiB peak"
        ),
    ),
    (
        "hostile_inputs",
        "`guarantor validate`, 100,000 tasks (40,000) in a fresh process; the YAML read beside PyYAML's",
        lambda f: (
            f"{_f(f, 'validate_100000_tasks_seconds'):.1f} s, {_f(f, 'validate_100000_tasks_peak_mib'):.0f} MiB "
            f"({_f(f, 'validate_40000_tasks_seconds'):.1f} s); "
            f"read in {_f(f, 'guarantor_read_100000_tasks_seconds'):.1f} s, "
            f"PyYAML's safe loader (C) in {_f(f, 'peer_pyyaml_read_100000_tasks_seconds'):.1f} s"
        ),
    ),
    (
        "hostile_inputs",
        "`guarantor validate` of the 414-byte alias bomb / of 5,000-deep nesting",
        lambda f: (
            f"refused in {_f(f, 'bomb_refused_seconds'):.2f} s / {_f(f, 'deep_refused_seconds'):.2f} s, "
            "process start included"
        ),
    ),
    (
        "role_search",
        "job titles as people write them, matched to O*NET occupations",
        lambda f: (
            f"top-1 {_f(f, 'all_top1'):.2f}, top-3 {_f(f, 'all_top3'):.2f} of {_f(f, 'all_titles'):.0f} "
            f"titles; {_f(f, 'ms_per_title'):.1f} ms a title"
        ),
    ),
    (
        "link_accuracy",
        "link suggestions on a hand-labelled set (3 projects, 6 outcomes each)",
        lambda f: (
            f"{_f(f, 'items'):.0f} items: precision {_f(f, 'precision'):.2f}, recall {_f(f, 'recall'):.2f}; "
            f"{100 * _f(f, 'unrelated_suggested_share'):.1f}% get one against another project's outcomes"
        ),
    ),
    (
        "work_pg_scale",
        "`guarantor balance` on PostgreSQL 15, work items written by the server (generate_series)",
        lambda f: (
            f"{_f(f, 'items'):,.0f} items: {_f(f, 'balance_seconds'):.1f} s, {_f(f, 'balance_peak_mib'):.0f} MiB peak; "
            f"the first, linking every item: {_f(f, 'first_balance_seconds'):.0f} s, "
            f"{_f(f, 'first_balance_peak_mib'):.0f} MiB"
        ),
    ),
    (
        "org_view",
        f"organisation view, 50 teams {X} 100 outcomes {X} 100,000 work items (5M) in one PostgreSQL 15",
        lambda f: (
            f"{1000 * _f(f, 'view_median_seconds'):.1f} ms (worst of 5: {1000 * _f(f, 'view_max_seconds'):.1f} "
            f"ms); `guarantor org --json` {_f(f, 'cli_org_json_seconds'):.2f} s with process start; a team's counts "
            f"kept after an import: {1000 * _f(f, 'count_after_import_median_seconds'):.0f} ms"
        ),
    ),
    *[
        (
            f"web_load {database} {page}",
            f"web, {what}, 50 concurrent clients (wrk), 2 workers, {DATABASES[database]}",
            lambda f: (
                f"{_f(f, 'requests_per_s'):,.0f} req/s, p95 {_f(f, 'p95_ms'):.0f} ms, p99 {_f(f, 'p99_ms'):.0f} ms"
                + (f"; first request {_f(f, 'first_request_ms'):,.0f} ms" if "first_request_ms" in f else "")
            ),
        )
        for page, what in (
            ("overview", "the overview"),
            ("outcome", "an outcome page (28 days of 15-minute history)"),
            ("work", "the work page (100,000 items)"),
            ("org", "the organisation view"),
        )
        for database in ("sqlite", "postgresql")
    ],
]
"""The README's rows: the benchmark, what the row measures, and its figures as people read them."""


def entries() -> dict[str, dict[str, object]]:
    if not PUBLISHED.is_file():
        return {}
    found = (json.loads(line) for line in PUBLISHED.read_text().splitlines() if line.strip())
    return {str(e["bench"]): e for e in found}


def merge(run: Path) -> list[str]:
    """Take each benchmark's JSON line from a run's output (the last one, where it printed several)."""
    known = entries()
    taken = []
    for line in run.read_text().splitlines():
        if line.startswith('{"bench"'):
            entry = json.loads(line)
            known[entry["bench"]] = entry
            taken.append(entry["bench"])
    PUBLISHED.write_text("".join(json.dumps(e) + "\n" for _, e in sorted(known.items())))
    return taken


def table() -> str:
    known = entries()
    lines = ["| what | figure | measured |", "|---|---|---|"]
    for bench, what, show in ROWS:
        entry = known.get(bench)
        try:
            figure = show(entry) if entry else "not measured yet"
        except KeyError as exc:
            figure = f"not measured in its last run ({exc.args[0]})"
        when = f"{entry['date']}, `{entry.get('commit', '?')}`" if entry else "—"
        if entry and "reference_s" in entry:
            when += f", reference {_f(entry, 'reference_s'):.2f} s"
        lines.append(f"| {what} | {figure} | {when} |")
    machines = sorted({str(e["machine"]) for e in known.values()})
    lines.append("")
    lines.append(
        f"Machine: {', '.join(machines) or '—'} (`bench/published.jsonl` has every figure, exact). A run's "
        "reference is the time a fixed pure-Python loop took beside it: the same machine runs some days "
        "slower than others, and figures compare only at about the same reference."
    )
    return "\n".join(lines)


def write_readme() -> bool:
    text = README.read_text()
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    fresh = text[:start] + "\n" + table() + "\n" + text[end:]
    changed = fresh != text
    README.write_text(fresh)
    return changed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="*", type=Path, help="output of benchmark runs, JSON lines included")
    args = parser.parse_args()
    for run in args.runs:
        print(f"{run}: published {', '.join(merge(run)) or 'nothing'}")
    print("README.md: table rewritten" if write_readme() else "README.md: table already current")


if __name__ == "__main__":
    main()
