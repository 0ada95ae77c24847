"""`guarantor classify` end to end, in a fresh process each time: tasks/s and peak memory.

It predicts in as many forked processes as the machine's CPUs (GUARANTOR_CLASSIFY_WORKERS' default);
``one_process_*`` is the same file predicted by the command's process alone. The peak is the
largest process's: the forked ones share the model's pages with the one they were forked from."""

from __future__ import annotations

import argparse
import csv
import os
import sys
import tempfile
from pathlib import Path

from _common import DATA_DIR, ROOT, report, run_measured

GUARANTOR = [sys.executable, "-m", "guarantor"]


def run(path: Path, env: dict[str, str]) -> tuple[float, int]:
    return run_measured([*GUARANTOR, "classify", str(path), "-o", os.devnull], env)


def best(path: Path, env: dict[str, str], repeat: int) -> tuple[list[float], int]:
    """Each run's seconds, and the peak memory of the last."""
    times, peak = [], 0
    for _ in range(repeat):
        seconds, peak = run(path, env)
        times.append(seconds)
    return times, peak


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of the large file (0: skip)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    env = {**os.environ, "GUARANTOR_DATA_DIR": str(DATA_DIR), "PYTHONPATH": str(ROOT)}
    env.setdefault("GUARANTOR_HOME", str(ROOT / ".guarantor"))
    tasks = DATA_DIR / "tasks.tsv"
    run(tasks, env)  # warm-up, untimed: builds and caches the model if there is none yet
    n = sum(1 for _ in tasks.open()) - 1
    times, peak = best(tasks, env, args.repeat)
    alone, _ = best(tasks, {**env, "GUARANTOR_CLASSIFY_WORKERS": "1"}, args.repeat)
    figures: dict[str, object] = {
        "tasks": n,
        "best_seconds": min(times),
        "median_seconds": sorted(times)[len(times) // 2],
        "tasks_per_second": n / min(times),
        "peak_rss_mib": peak / 2**20,
        "one_process_best_seconds": min(alone),
        "one_process_tasks_per_second": n / min(alone),
    }
    if args.rows:
        with tempfile.TemporaryDirectory() as tmp:
            big = Path(tmp) / "big.csv"
            texts = [r[3] for r in csv.reader(tasks.open(), delimiter="\t")][1:]
            with big.open("w", newline="") as out:
                w = csv.writer(out)
                w.writerow(["id", "text"])
                for i in range(args.rows):
                    w.writerow([i, texts[i % len(texts)]])
            seconds, peak_big = run(big, env)
        figures.update(
            {
                "large_rows": args.rows,
                "large_seconds": seconds,
                "large_tasks_per_second": args.rows / seconds,
                "large_peak_rss_mib": peak_big / 2**20,
            }
        )
    report("classify_throughput", figures)


if __name__ == "__main__":
    main()
