"""What hostile or huge workspace files cost: the 343-byte alias bomb, deep nesting, and a
100,000-task workspace, each validated by `guarantor validate` in a fresh process; and how many of
the hostile invocations of `tests/hostile_cli.py` (settings, options, check-in values, user names,
YAML tags, workspace values, exports) get their documented exit code, and how many exit 1 (a bug):
the count must be zero.

Peer: PyYAML's own safe loader (libyaml), in the same run, on the same files: how long it takes to
read the 100,000-task file (Guarantor's reader also records where each value stands), and what a
bomb costs once its data is used: PyYAML shares aliased values, so loading is instant, but any walk
over them (a schema check, a JSON dump) expands them; that is timed on 6 and 7 levels (each level
multiplies it by 9; the full 8-level file would take minutes and gigabytes).
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml
from _common import DATA_DIR, ROOT, report, run_measured

GUARANTOR = [sys.executable, "-m", "guarantor"]


def bomb(levels: int) -> str:
    names = "abcdefghijklmnop"
    lines = ["name: x", 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, name in itertools.pairwise(names[: levels + 1]):
        lines.append(f"{name}: &{name} [{', '.join([f'*{prev}'] * 9)}]")
    return "\n".join(lines) + "\n"


def workspace(tasks: int) -> str:
    lines = ["name: Big", "people:"]
    lines += [f"  - {{id: p{p}, name: Person {p}, role: Software Developers}}" for p in range(200)]
    lines.append("outcomes:")
    lines += [f"  - {{id: o{o}, title: Outcome {o}, for_whom: Customers}}" for o in range(100)]
    lines.append("tasks:")
    lines += [
        f"  - {{text: Review code changes and write tests for module {t}, hours_week: 0.5, "
        f"owner: p{t % 200}, serves: [o{t % 100}]}}"
        for t in range(tasks)
    ]
    return "\n".join(lines) + "\n"


def refused(path: Path, env: dict[str, str]) -> float:
    """Seconds until `guarantor validate` refuses the file (exit 3, an input error), process start included."""
    start = time.perf_counter()
    proc = subprocess.run([*GUARANTOR, "validate", str(path)], env=env, capture_output=True, check=False)
    seconds = time.perf_counter() - start
    if proc.returncode != 3:
        raise SystemExit(f"expected exit 3, got {proc.returncode}: {proc.stderr.decode()}")
    return seconds


def invocations() -> dict[str, object]:
    """Every hostile invocation, in this process, against a home and database of its own."""
    sys.path.insert(0, str(ROOT))
    from tests import hostile_cli

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        saved = {k: os.environ.get(k) for k in ("GUARANTOR_HOME", "GUARANTOR_DATA_DIR", "GUARANTOR_DATABASE_URL")}
        os.environ.update({"GUARANTOR_HOME": str(folder / "home"), "GUARANTOR_DATA_DIR": str(DATA_DIR)})
        os.environ.pop("GUARANTOR_DATABASE_URL", None)
        try:
            hostile_cli.prepare(folder / "ws")
            (folder / "ws" / "empty").mkdir()
            start = time.perf_counter()
            results = [(case, hostile_cli.run(case)[0]) for case in hostile_cli.cases(folder / "ws")]
            seconds = time.perf_counter() - start
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
    for case, code in results:
        if code not in case.codes:
            print(f"  {case.name}: exit {code}, documented {sorted(case.codes)}", file=sys.stderr)
    return {**hostile_cli.tally(results), "hostile_invocations_seconds": round(seconds, 2)}


def main() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    figures: dict[str, object] = invocations()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        full = folder / "bomb.yaml"
        full.write_text(bomb(8))
        figures["bomb_bytes"] = full.stat().st_size
        figures["bomb_refused_seconds"] = min(refused(full, env) for _ in range(3))
        deep = folder / "deep.yaml"
        deep.write_text("name: x\nk: " + "[" * 5000 + "]" * 5000 + "\n")
        figures["deep_refused_seconds"] = refused(deep, env)
        for tasks in (40_000, 100_000):
            big = folder / f"tasks-{tasks}.yaml"
            big.write_text(workspace(tasks))
            seconds, peak = run_measured([*GUARANTOR, "validate", str(big)], env)
            figures[f"validate_{tasks}_tasks_seconds"] = seconds
            figures[f"validate_{tasks}_tasks_peak_mib"] = round(peak / 2**20)
        start = time.perf_counter()
        yaml.load(big.read_text(), Loader=yaml.CSafeLoader)
        peer = time.perf_counter() - start
        figures["peer_pyyaml_read_100000_tasks_seconds"] = peer
        start = time.perf_counter()
        from guarantor.inputs import yamldoc

        yamldoc.load(big.read_text(), str(big))
        ours = time.perf_counter() - start
        figures["guarantor_read_100000_tasks_seconds"] = ours
        figures["read_ratio_to_peer"] = round(ours / peer, 2)
        # last: the peer's walk grows this process, and children forked after it would report its memory
        for levels in (6, 7):
            start = time.perf_counter()
            json.dumps(yaml.load(bomb(levels), Loader=yaml.CSafeLoader))
            figures[f"peer_pyyaml_bomb_{levels}_levels_walk_seconds"] = time.perf_counter() - start
    report("hostile_inputs", figures)


if __name__ == "__main__":
    main()
