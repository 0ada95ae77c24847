"""How fast the CLI starts: for `--help` and each command's `--help`, the wall time of a fresh
process (best of a few) and the time its imports take (`python -X importtime`, self times summed);
and the time to the first row of `classify` on a one-line file, model load included."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from _common import DATA_DIR, ROOT, report, run_measured

GUARANTOR = [sys.executable, "-m", "guarantor"]
COMMANDS = ("", "role", "classify", "check", "import", "sync", "analyze", "serve")
REPEAT = 5


def imports_s(args: list[str], env: dict[str, str]) -> float:
    """Seconds spent importing, as Python itself reports it."""
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "guarantor", *args], env=env, capture_output=True)
    return sum(int(m[1]) for m in re.finditer(r"import time:\s+(\d+) \|", done.stderr.decode())) / 1e6


def main() -> None:
    env = {**os.environ, "GUARANTOR_DATA_DIR": str(DATA_DIR), "PYTHONPATH": str(ROOT)}
    figures: dict[str, object] = {}
    for command in COMMANDS:
        args = [command, "--help"] if command else ["--help"]
        name = command or "guarantor"
        figures[f"{name}_help_s"] = min(run_measured([*GUARANTOR, *args], env)[0] for _ in range(REPEAT))
        # Best of a few as the wall time is: one slow run would show the imports longer than the whole.
        figures[f"{name}_imports_s"] = min(imports_s(args, env) for _ in range(3))
    with tempfile.TemporaryDirectory() as tmp:
        one = Path(tmp) / "one.txt"
        one.write_text("Review pull requests and write unit tests\n")
        run_measured([*GUARANTOR, "classify", str(one)], env)  # builds the model into the cache if it is not there
        figures["classify_one_row_s"] = min(run_measured([*GUARANTOR, "classify", str(one)], env)[0] for _ in range(3))
    report("cli_start", figures)


if __name__ == "__main__":
    main()
