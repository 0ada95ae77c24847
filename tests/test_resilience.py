"""One indicator can never stop another, and no editor can stall the server: a cron that never
fires, a source that hangs or trickles a byte a second, checks piling up on the server, and a
SIGTERM while measurements are in flight. Real sources on loopback, a real server."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from guarantor.guarantees.sources.base import SourceError
from guarantor.guarantees.sources.http import get_json
from guarantor.settings import Settings
from tests.http_peer import JsonHandler, peer
from tests.web_server import Server, api, free_port, prepare, serving

NEVER = "0 0 30 2 *"  # the 30th of February


class _Slow(JsonHandler):
    """/trickle: a body of 1,000 bytes, one a second; /headers: the headers, a byte a second;
    anything else: no answer for a minute. Each gives up once the client has gone."""

    def do_GET(self) -> None:
        try:
            if self.path.startswith("/trickle"):
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "1000")
                self.end_headers()
                self._drip(b"1" * 1000)
            elif self.path.startswith("/headers"):
                self.wfile.write(b"HTTP/1.1 200 OK\r\n")
                self._drip(b"X-Slow: " + b"a" * 1000)
            else:
                time.sleep(60)
        except OSError:
            return

    def _drip(self, data: bytes) -> None:
        for byte in data[:60]:
            self.wfile.write(bytes([byte]))
            self.wfile.flush()
            time.sleep(1)


@contextmanager
def _slow_peer() -> Iterator[str]:
    with peer(_Slow) as port:
        yield f"http://127.0.0.1:{port}"


@pytest.mark.parametrize("path", ["/trickle", "/headers", "/hang"])
def test_a_source_that_trickles_or_hangs_ends_at_its_deadline(path: str) -> None:
    with _slow_peer() as base:
        start = time.monotonic()
        with pytest.raises(SourceError, match=r"timed out after 2 s|longer than its timeout"):
            get_json(base + path, {}, 2.0, True)
        assert abs(time.monotonic() - start - 2.0) <= 1.0


def _workspace(folder: Path, base: str) -> Path:
    sample = folder / "data.csv"
    sample.write_text("x\n1\n2\n")
    outcomes = [
        ("measured", {"schedule": "1m", "source": "files", "query": "SELECT sum(x) FROM 'data.csv'"}),
        ("never", {"schedule": {"cron": NEVER}, "source": "files", "query": "SELECT 1"}),
        ("hanging", {"schedule": "1m", "source": "slow", "query": "/hang", "jsonpath": "$.x"}),
    ]
    document = {
        "name": "Resilient",
        "sources": {"files": {"type": "file"}, "slow": {"type": "http", "base_url": base, "timeout": "2s"}},
        "outcomes": [
            {
                "id": oid,
                "title": oid,
                "for_whom": "someone",
                "guarantee": {
                    "schedule": spec.pop("schedule"),
                    "indicators": [{"id": f"{oid}-i", "target": ">= 0", **spec}],
                },
            }
            for oid, spec in outcomes
        ],
    }
    path = folder / "guarantor.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def test_a_never_firing_cron_and_a_hanging_source_leave_the_other_outcomes_measured(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with _slow_peer() as base:
        path = _workspace(tmp_path, base)
        r = cli("check", str(path), "--json")
        told = cli("check", str(path))  # for people, it ends with one line, as a scan does
    assert told.out.rstrip().endswith("3 outcomes: 1 met, 2 error"), told.out
    outcomes = {o["outcome"]: o["indicators"][0]["latest"] for o in json.loads(r.out)["outcomes"]}
    assert outcomes["measured"]["status"] == "MET" and outcomes["measured"]["value"] == "3", outcomes
    assert outcomes["never"]["status"] == "ERROR" and "never fires" in outcomes["never"]["reason"]
    assert outcomes["hanging"]["status"] == "ERROR" and "timed out" in outcomes["hanging"]["reason"]
    assert r.code == 13, r.err  # the worst status measured: a source error, never exit 1


def _on_disk(server: Server, change: Any) -> None:
    """The admin edits the workspace file on disk, as they may."""
    data = yaml.safe_load(server.workspace.read_text())
    change(data)
    server.workspace.write_text(yaml.safe_dump(data, sort_keys=False))


def test_the_api_never_answers_500_for_one_broken_schedule(server: Server) -> None:
    def never(data: dict[str, Any]) -> None:
        for o in data["outcomes"]:
            if o["id"] in ("fast-support", "onboarding-satisfaction"):
                o["guarantee"]["schedule"] = {"cron": NEVER}

    _on_disk(server, never)
    with api(server) as c:
        checked = c.post("/api/v1/checks", json={})
        assert checked.status_code == 200, checked.text
        states = {o["outcome"]: o for o in checked.json()["outcomes"]}
        assert states["fast-support"]["indicators"][0]["latest"]["status"] == "ERROR"
        assert states["quick-delivery"]["indicators"][0]["latest"]["status"] == "MET"
        recorded = c.post("/api/v1/outcomes/onboarding-satisfaction/checkins", json={"value": 4})
        assert recorded.status_code == 201, recorded.text
        assert c.get("/api/v1/outcomes").status_code == 200


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("schedule", {"cron": NEVER}, "no moment in the coming year"),
        ("schedule", {"cron": "0 0 29 2 *"}, "no moment in the coming year"),
        ("schedule", "1s", "more often than every 60 s"),
    ],
)
def test_an_editor_cannot_set_a_schedule_that_measures_nothing(
    server: Server, field: str, value: object, message: str
) -> None:
    before = server.workspace.read_text()
    guarantee = {
        "schedule": value,
        "indicators": [{"id": "x", "source": "shop", "query": "SELECT 1", "target": ">= 0"}],
    }
    with api(server) as c:
        answer = c.patch("/api/v1/outcomes/fast-support", json={"guarantee": guarantee})
    assert answer.status_code == 422 and message in answer.text, answer.text
    assert server.workspace.read_text() == before


@pytest.mark.parametrize(
    ("indicator", "message"),
    [
        ({"timeout": "1d"}, "a measurement may take here"),
        ({"timeout": "10m"}, "a measurement may take here"),
        ({"query": "SELECT " + " + ".join(["1"] * 9000)}, "at most 16384 characters"),
    ],
)
def test_an_editor_cannot_set_a_timeout_or_query_past_the_admins_caps(
    server: Server, indicator: dict[str, str], message: str
) -> None:
    before = server.workspace.read_text()
    guarantee = {"indicators": [{"id": "x", "source": "shop", "query": "SELECT 1", "target": ">= 0", **indicator}]}
    with api(server) as c:
        answer = c.patch("/api/v1/outcomes/fast-support", json={"guarantee": guarantee})
    assert answer.status_code == 422 and message in answer.text, answer.text
    assert server.workspace.read_text() == before


def _hanging(base: str, count: int, outcomes: tuple[str, ...] = ("fast-checkout",)) -> Any:
    """Each of ``outcomes`` measured by ``count`` indicators on a source that never answers."""

    def change(data: dict[str, Any]) -> None:
        data["sources"]["status"] = {"type": "http", "base_url": base, "timeout": "1m"}
        for outcome in (o for o in data["outcomes"] if o["id"] in outcomes):
            outcome["guarantee"]["indicators"] = [
                {
                    "id": f"{outcome['id']}-{n}",
                    "source": "status",
                    "query": f"/hang/{n}",
                    "jsonpath": "$.x",
                    "target": ">= 0",
                }
                for n in range(count)
            ]

    return change


def test_the_server_answers_while_measurements_hang(env: Settings, cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    settings = env.model_copy(
        update={"web_cache_s": 0.0, "check_workers": 10, "web_checks_at_once": 2, "measure_timeout_max_s": 4.0}
    )
    workspace = prepare(tmp_path / "shop", settings, cli)
    tokens = dict(line.split("=", 1) for line in (workspace.parent / ".tokens").read_text().splitlines())
    with _slow_peer() as base, serving(settings, workspace) as url:
        server = Server(url, workspace, tokens, settings)
        _on_disk(server, _hanging(base, 10, ("fast-checkout", "quick-delivery")))

        def check(outcome: str) -> int:
            with api(server) as c:
                return c.post("/api/v1/checks", json={"outcome": outcome}).status_code

        with ThreadPoolExecutor(3) as pool:  # 2 checks x 10 workers: 20 measurements hang
            running = [pool.submit(check, o) for o in ("fast-checkout", "quick-delivery")]
            time.sleep(1.0)
            third = pool.submit(check, "fast-support").result()
            for _ in range(3):
                start = time.monotonic()
                page = httpx.get(url + "/", timeout=5)
                with api(server, "viewer") as c:
                    me = c.get("/api/v1/me")
                assert time.monotonic() - start < 1.0 and page.status_code < 500 and me.status_code == 200
            assert third == 429
            assert [f.result() for f in running] == [200, 200]


def test_sigterm_stops_the_server_within_seconds_while_measurements_hang(
    env: Settings,
    cli,  # type: ignore[no-untyped-def]
    tmp_path: Path,
) -> None:
    workspace = prepare(tmp_path / "shop", env.model_copy(update={"web_cache_s": 0.0}), cli)
    tokens = dict(line.split("=", 1) for line in (workspace.parent / ".tokens").read_text().splitlines())
    port = free_port()
    with _slow_peer() as base:
        data = yaml.safe_load(workspace.read_text())
        _hanging(base, 6)(data)
        workspace.write_text(yaml.safe_dump(data, sort_keys=False))
        process = subprocess.Popen(
            [sys.executable, "-m", "guarantor", "serve", str(workspace.parent), "--port", str(port)],
            env={**os.environ, "GUARANTOR_MEASURE_TIMEOUT_MAX_S": "120"},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    httpx.get(url + "/login", timeout=1)
                    break
                except httpx.HTTPError:
                    time.sleep(0.2)
            headers = {"Authorization": f"Bearer {tokens['editor']}"}

            answered = threading.Event()

            def check() -> None:
                with suppress(httpx.HTTPError):
                    httpx.post(url + "/api/v1/checks", json={}, headers=headers, timeout=30)
                    answered.set()

            threading.Thread(target=check, daemon=True).start()
            time.sleep(1.5)
            assert not answered.is_set(), "the check is still waiting on its hanging sources"
            start = time.monotonic()
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=10)
            assert time.monotonic() - start < 5.0
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
