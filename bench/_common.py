"""What the benchmark scripts share: where the data is, a PostgreSQL database, and how figures are printed."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = Path(os.environ.get("GUARANTOR_DATA_DIR", ROOT.parent / "shared" / "data" / "onet"))
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
"""The processes measured keep their compiled modules, as an installed Guarantor's are: a shell
that sets this would have every start compile Guarantor's sources again."""


@contextmanager
def postgres_database() -> Iterator[str]:
    """A new, empty database for one run, dropped after it: its SQLAlchemy URL. On the server of
    GUARANTOR_BENCH_DATABASE_URL when set, else on the one `scripts/postgres` starts (or finds)."""
    import psycopg
    from sqlalchemy.engine import make_url

    given = os.environ.get("GUARANTOR_BENCH_DATABASE_URL")
    if not given:
        started = subprocess.run([str(ROOT / "scripts" / "postgres")], capture_output=True, text=True, check=True)
        given = started.stdout.strip().splitlines()[-1]
    server = make_url(given)
    admin = server.set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"guarantor_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield server.set(drivername="postgresql+psycopg", database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


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


PUBLISHED = Path(__file__).with_name("published.jsonl")
"""The figures the README's performance table shows: one JSON line per benchmark, as ``report``
prints it, merged in by ``bench/publish.py``."""


def published(name: str) -> dict[str, object]:
    """The last published figures of a benchmark (empty before the first)."""
    if not PUBLISHED.is_file():
        return {}
    for line in PUBLISHED.read_text().splitlines():
        entry: dict[str, object] = json.loads(line)
        if entry.get("bench") == name:
            return entry
    return {}


def report(name: str, figures: dict[str, object]) -> None:
    """The figures as a table, each beside its last published value, then as one JSON line (with the
    date, the machine and the commit) that ``bench/publish.py`` can publish."""
    before = published(name)
    width = max(len(k) for k in figures)
    print(f"== {name}" + (f"  (published {before['date']}, {before.get('commit', '?')})" if before else ""))
    for key, value in figures.items():
        shown = f"{value:.4f}" if isinstance(value, float) else str(value)
        was = before.get(key)
        beside = "" if was is None else f"   published: {was:.4f}" if isinstance(was, float) else f"   published: {was}"
        print(f"{key.ljust(width)}  {shown}{beside}")
    reference = reference_s()
    was = before.get("reference_s")
    print(f"machine: {MACHINE}, {CPU}; reference loop {reference:.3f} s" + (f" (published: {was:.3f})" if was else ""))
    print(
        json.dumps(
            {
                "bench": name,
                "machine": MACHINE,
                "cpu": CPU,
                "reference_s": reference,
                "date": today(),
                "commit": commit(),
                **figures,
            }
        )
    )


MACHINE = f"{platform.machine()} {os.cpu_count()} cpu"


def _cpu() -> str:
    """The processor's model and clock as Linux reports them (the platform's name elsewhere)."""
    try:
        info = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or "unknown"
    fields = {k.strip(): v.strip() for k, _, v in (line.partition(":") for line in info.splitlines())}
    model, mhz = fields.get("model name", ""), fields.get("cpu MHz", "")
    return f"{model} at {float(mhz):.0f} MHz" if model and mhz else model or "unknown"


CPU = _cpu()


def reference_s() -> float:
    """The seconds a fixed piece of pure Python takes here (best of 5), printed with every run's
    figures: a lent machine's speed varies from day to day (the same commands ran 1.7x slower here
    on 2026-11-24 than the day before), so a figure is compared only with one measured at about
    the same reference."""

    def loop() -> int:
        total = 0
        for i in range(2_000_000):
            total += i % 7
        return total

    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        loop()
        best = min(best, time.perf_counter() - start)
    return best


def today() -> str:
    return time.strftime("%Y-%m-%d", time.gmtime())


def commit() -> str:
    done = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    return done.stdout.strip() or "unknown"
