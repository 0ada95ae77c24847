"""What the benchmark scripts share: where the data is, and how figures are printed."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = Path(os.environ.get("GUARANTOR_DATA_DIR", ROOT.parent / "shared" / "data" / "onet"))


def run_measured(argv: list[str], env: dict[str, str], stdout: int | None = None) -> tuple[float, int]:
    """Wall seconds and peak RSS (bytes) of one process, measured for that process alone."""
    with tempfile.TemporaryFile() as errors:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, env=env, stdout=stdout or subprocess.DEVNULL, stderr=errors)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        if os.waitstatus_to_exitcode(status) != 0:
            errors.seek(0)
            raise SystemExit(errors.read().decode())
    return seconds, usage.ru_maxrss * 1024


def report(name: str, figures: dict[str, object]) -> None:
    width = max(len(k) for k in figures)
    print(f"== {name}")
    for key, value in figures.items():
        print(f"{key.ljust(width)}  {value:.4f}" if isinstance(value, float) else f"{key.ljust(width)}  {value}")
    print(json.dumps({"bench": name, "machine": f"{platform.machine()} {os.cpu_count()} cpu", **figures}))
