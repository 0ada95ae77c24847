"""The web app under load: `guarantor serve` on loopback, wrk with 50 concurrent connections on the
overview, an outcome page (28 days of 15-minute history), the work page and the organisation view,
with 100,000 work items imported, against SQLite and PostgreSQL.

Prints requests per second and latency percentiles (p50/p95/p99) per page and database, and the
time of each page's first request, before anything is cached. The target is p95 under 50 ms and
p99 under 100 ms with 50 clients on 2 cores; wrk runs on the same cores, so the figures include
its cost. Needs wrk (Debian: apt-get install wrk).

    python bench/web_load.py                    # SQLite, then PostgreSQL (started by scripts/postgres)
    python bench/web_load.py --databases sqlite --duration 30
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from _common import DATA_DIR, ROOT, postgres_database, report
from work_scale import make_items

sys.path.insert(0, str(ROOT))
from tests.web_server import seed_history

GUARANTOR = [sys.executable, "-m", "guarantor"]
PAGES = {"overview": "/", "outcome": "/outcomes/payouts-on-time", "work": "/work", "org": "/org"}
LUA = """
done = function(summary, latency, requests)
  io.write(string.format("BENCH %d %d %d %.3f %.3f %.3f %.3f\\n", summary.requests, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    summary.duration / 1e6))
end
"""


def prepare(folder: Path, env: dict[str, str], items: int) -> str:
    shutil.copytree(ROOT / "examples" / "guarantees", folder, ignore=shutil.ignore_patterns("shop.db"))
    subprocess.run([sys.executable, "make_sample.py"], cwd=folder, check=True, capture_output=True)

    def run(*args: str, stdin: str | None = None) -> str:
        done = subprocess.run([*GUARANTOR, *args], env=env, input=stdin, capture_output=True, text=True, check=False)
        if done.returncode not in (0, 10, 11, 12, 13):
            raise SystemExit(done.stderr)
        return done.stdout

    run("check", str(folder), "--all")
    run("import", "jira", str(folder / "jira-export.csv"), "-w", str(folder))
    if items:
        make_items(folder / "items.csv", items)
        run("import", "csv", str(folder / "items.csv"), "-w", str(folder))
    run("analyze", str(folder))
    run("user", "add", "bench", "--role", "viewer", "-w", str(folder), "--password-stdin", stdin="bench-password\n")
    return run("token", "create", "bench").strip()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wrk(url: str, token: str, clients: int, seconds: int, script: Path) -> dict[str, float]:
    out = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{clients}",
            f"-d{seconds}s",
            "--timeout",
            "5s",
            "-s",
            str(script),
            "-H",
            f"Authorization: Bearer {token}",
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    found = re.search(r"^BENCH (\d+) (\d+) (\d+) ([\d.]+) ([\d.]+) ([\d.]+) ([\d.]+)$", out, re.M)
    assert found, out
    n, bad_status, socket_errors, p50, p95, p99, duration = found.groups()
    return {
        "requests_per_s": int(n) / float(duration),
        "p50_ms": float(p50),
        "p95_ms": float(p95),
        "p99_ms": float(p99),
        "errors": int(bad_status) + int(socket_errors),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--duration", type=int, default=15)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--items", type=int, default=100_000, help="work items imported besides the example's")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk")
    for database in args.databases.split(","):
        with contextlib.ExitStack() as stack:
            tmp = stack.enter_context(tempfile.TemporaryDirectory())
            folder = Path(tmp) / "shop"
            url = f"sqlite:///{tmp}/guarantor.db" if database == "sqlite" else stack.enter_context(postgres_database())
            env = {
                **os.environ,
                "GUARANTOR_DATA_DIR": str(DATA_DIR),
                "GUARANTOR_HOME": os.environ.get("GUARANTOR_HOME", str(ROOT / ".guarantor")),
                "GUARANTOR_DATABASE_URL": url,
            }
            token = prepare(folder, env, args.items)
            history = seed_history(url)
            port = free_port()
            server = subprocess.Popen(
                [*GUARANTOR, "serve", str(folder), "--port", str(port), "--workers", str(args.workers)],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            try:
                deadline = time.monotonic() + 120
                while True:
                    try:
                        socket.create_connection(("127.0.0.1", port), timeout=1).close()
                        break
                    except OSError:
                        if time.monotonic() > deadline or server.poll() is not None:
                            raise SystemExit("the server did not start") from None
                        time.sleep(0.2)
                script = Path(tmp) / "report.lua"
                script.write_text(LUA)
                for name, path in PAGES.items():
                    first = time.perf_counter()
                    httpx.get(
                        f"http://127.0.0.1:{port}{path}", headers={"Authorization": f"Bearer {token}"}, timeout=60
                    )
                    first_ms = (time.perf_counter() - first) * 1000
                    wrk(f"http://127.0.0.1:{port}{path}", token, 4, 3, script)  # warm every worker
                    figures = wrk(f"http://127.0.0.1:{port}{path}", token, args.clients, args.duration, script)
                    report(
                        f"web_load {database} {name}",
                        {
                            **figures,
                            "first_request_ms": first_ms,
                            "clients": args.clients,
                            "workers": args.workers,
                            "cpus": os.cpu_count() or 0,
                            "history_rows": history,
                            "work_items": args.items,
                        },
                    )
            finally:
                server.terminate()
                server.wait(30)


if __name__ == "__main__":
    main()
