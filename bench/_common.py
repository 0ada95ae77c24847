"""What the benchmark scripts share: where the data is, and how figures are printed."""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = Path(os.environ.get("GUARANTOR_DATA_DIR", ROOT.parent / "shared" / "data" / "onet"))


def report(name: str, figures: dict[str, object]) -> None:
    width = max(len(k) for k in figures)
    print(f"== {name}")
    for key, value in figures.items():
        print(f"{key.ljust(width)}  {value:.4f}" if isinstance(value, float) else f"{key.ljust(width)}  {value}")
    print(json.dumps({"bench": name, "machine": f"{platform.machine()} {os.cpu_count()} cpu", **figures}))
