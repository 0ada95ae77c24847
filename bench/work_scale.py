"""Work items at scale: `guarantor import csv` and `guarantor balance` on 10k, 100k and 1M items,
each in a fresh process: items/s and peak memory (RSS) of each step."""

from __future__ import annotations

import argparse
import csv
import os
import random
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from _common import DATA_DIR, ROOT, report, run_measured

GUARANTOR = [sys.executable, "-m", "guarantor"]
OUTCOMES = ("payouts-on-time", "fast-support", "quick-delivery", "fast-checkout")


def make_items(path: Path, n: int) -> None:
    """Realistic titles (O*NET task statements), a quarter labelled with their outcome."""
    rng = random.Random(n)
    texts = [r[3] for r in csv.reader((DATA_DIR / "tasks.tsv").open(), delimiter="\t")][1:]
    start = datetime(2025, 1, 1, tzinfo=UTC)
    with path.open("w", newline="") as out:
        w = csv.writer(out)
        w.writerow(["id", "title", "state", "labels", "estimate", "created_at", "closed_at"])
        for i in range(n):
            created = start + timedelta(minutes=rng.randrange(600_000))
            closed = created + timedelta(hours=rng.randrange(1, 400)) if rng.random() < 0.7 else None
            label = f"outcome:{rng.choice(OUTCOMES)}" if rng.random() < 0.25 else "chore"
            w.writerow(
                [
                    f"W-{i}",
                    texts[i % len(texts)],
                    "done" if closed else "open",
                    label,
                    rng.choice((1, 2, 3, 5, 8)),
                    created.isoformat(),
                    closed.isoformat() if closed else "",
                ]
            )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--no-exposure", action="store_true", help="import without classifying item texts")
    args = parser.parse_args()
    figures: dict[str, object] = {}
    for n in (int(s) for s in args.sizes.split(",")):
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            (folder / "guarantor.yaml").write_text((ROOT / "examples" / "guarantees" / "guarantor.yaml").read_text())
            make_items(folder / "items.csv", n)
            env = {
                **os.environ,
                "GUARANTOR_DATA_DIR": str(DATA_DIR),
                "PYTHONPATH": str(ROOT),
                "GUARANTOR_DATABASE_URL": f"sqlite:///{folder / 'g.db'}",
            }
            env.setdefault("GUARANTOR_HOME", str(ROOT / ".guarantor"))
            extra = ["--no-exposure"] if args.no_exposure else []
            seconds, peak = run_measured(
                [*GUARANTOR, "import", "csv", str(folder / "items.csv"), "-w", str(folder), *extra], env
            )
            b_seconds, b_peak = run_measured([*GUARANTOR, "balance", str(folder), "--json"], env)
            figures.update(
                {
                    f"import_{n}_seconds": seconds,
                    f"import_{n}_items_per_second": n / seconds,
                    f"import_{n}_peak_mib": peak / 2**20,
                    f"balance_{n}_seconds": b_seconds,
                    f"balance_{n}_items_per_second": n / b_seconds,
                    f"balance_{n}_peak_mib": b_peak / 2**20,
                    f"import_and_balance_{n}_seconds": seconds + b_seconds,
                }
            )
    report("work_scale", figures)


if __name__ == "__main__":
    main()
