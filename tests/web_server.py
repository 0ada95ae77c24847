"""A real Guarantor server on loopback for the web tests: the example shop workspace with measured
outcomes, imported Jira work, a saved analysis, and one user of each role."""

from __future__ import annotations

import math
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from guarantor.accounts import service as accounts
from guarantor.clock import utcnow
from guarantor.db import scope
from guarantor.settings import Settings
from guarantor.web.app import create_app
from guarantor.web.cli import uvicorn_options
from tests.scoped import workspace_db

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "guarantees"
PASSWORD = "correct horse battery"
ROLES = ("viewer", "editor", "admin")


@dataclass
class Server:
    url: str
    workspace: Path  # the guarantor.yaml the server serves
    tokens: dict[str, str]  # role -> API token of the user named after the role
    settings: Settings


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def serve_process(command: list[str], env: dict[str, str], cwd: Path) -> Iterator[tuple[str, list[str]]]:
    """``guarantor serve`` as a person runs it, on a port the OS picked: yields its URL and the lines
    it printed (to stderr) once it listens; on leaving, Ctrl-C, after which it must end with 0 and
    the lines it printed while stopping are added."""
    port = free_port()
    server = subprocess.Popen(
        command, cwd=cwd, env=env | {"GUARANTOR_WEB_PORT": str(port)}, stderr=subprocess.PIPE, text=True
    )
    assert server.stderr is not None
    lines: list[str] = []
    try:
        deadline = time.monotonic() + 120
        while not any(line.startswith("Serving") for line in lines):
            assert time.monotonic() < deadline and server.poll() is None, "".join(lines)
            lines.append(server.stderr.readline())
        yield f"http://127.0.0.1:{port}", lines
    finally:
        server.send_signal(signal.SIGINT)
        code = server.wait(timeout=30)
        lines += server.stderr.readlines()
        server.stderr.close()
    assert code == 0, "".join(lines)


def log_in(client: httpx.Client, username: str, password: str) -> httpx.Response:
    """The login form, filled and sent as a browser does (with its CSRF token)."""
    form = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
    assert form
    return client.post("/login", data={"username": username, "password": password, "csrf_token": form[1]})


def prepare(folder: Path, settings: Settings, run_cli: Callable[..., Any]) -> Path:
    """The example workspace copied to ``folder``, with its sample data, checks and work."""
    shutil.copytree(EXAMPLE, folder, ignore=shutil.ignore_patterns("shop.db"))
    subprocess.run([sys.executable, "make_sample.py"], cwd=folder, check=True, capture_output=True)
    run_cli("check", str(folder), "--all")  # the HTTP source is down: that outcome is in ERROR, as it would be
    assert run_cli("import", "jira", str(folder / "jira-export.csv"), "-w", str(folder)).code == 0
    assert run_cli("analyze", str(folder)).code == 0
    db = workspace_db(settings.resolved_database_url, folder)
    tokens = {}
    try:
        with db.transaction() as session:
            for role in ROLES:
                accounts.add_user(session, role, PASSWORD, utcnow(), {scope.current(session): role})
            for role in ROLES:
                tokens[role] = accounts.create_token(session, role, "tests", utcnow())[0]
    finally:
        db.close()
    (folder / ".tokens").write_text("\n".join(f"{k}={v}" for k, v in tokens.items()))
    return folder / "guarantor.yaml"


def seed_history(database_url: str, days: int = 28) -> int:
    """Copies of each indicator's latest measurement back over ``days``, every 15 minutes."""
    from sqlalchemy import create_engine, insert, select

    from guarantor.guarantees.models import Measurement

    rng = random.Random(1)
    engine = create_engine(database_url)
    with engine.begin() as conn:
        latest = conn.execute(select(Measurement.__table__)).mappings().all()
        rows = []
        for m in latest:
            if m["value"] is None:
                continue
            for k in range(1, days * 96):
                shift = timedelta(minutes=15 * k)
                rows.append(
                    {
                        **{c: v for c, v in m.items() if c != "id"},
                        "scheduled_at": m["scheduled_at"] - shift,
                        "measured_at": m["measured_at"] - shift,
                        "value": str(
                            round(float(m["value"]) * (1 + 0.002 * math.sin(k / 50) + rng.uniform(-5e-4, 5e-4)), 3)
                        ),
                    }
                )
        conn.execute(insert(Measurement.__table__), rows)
    engine.dispose()
    return len(rows)


@contextmanager
def serving(settings: Settings, workspace: Path | Sequence[Path]) -> Iterator[str]:
    """The app under uvicorn in a thread; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings, workspace),
            host="127.0.0.1",
            port=port,
            log_level="warning",
            **uvicorn_options(settings.web_trusted_proxies),
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def api(server: Server, role: str = "editor") -> httpx.Client:
    return httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {server.tokens[role]}"}, timeout=30)


@contextmanager
def browser(server: Server, role: str) -> Iterator[tuple[httpx.Client, str]]:
    """A logged-in browser-like client, and its session's CSRF token (read from a page's form)."""
    with httpx.Client(base_url=server.url, timeout=30, follow_redirects=True) as client:
        yield client, _login(client, role)


def _login(client: httpx.Client, role: str) -> str:
    done = log_in(client, role, PASSWORD)
    assert done.status_code == 200 and done.url.path == "/"
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', done.text)
    assert csrf
    return csrf[1]
