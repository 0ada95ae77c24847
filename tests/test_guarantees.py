from __future__ import annotations

import json
import os
import sqlite3
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import ClassVar
from urllib.parse import parse_qs, urlparse

import pytest

from guarantor.guarantees import runner
from guarantor.guarantees.sources.base import Context
from guarantor.workspace.loader import parse
from tests.http_peer import JsonHandler, peer
from tests.scoped import workspace_db


class Api(JsonHandler):
    """JSON and Prometheus-format answers on loopback; ``prom`` holds the vector to return."""

    prom: ClassVar[list[dict[str, object]]] = [{"metric": {}, "value": [1700000000, "0.9993"]}]

    def do_GET(self) -> None:
        url = urlparse(self.path)
        if url.path == "/status":
            self.send_json(200, {"checkout": {"p95_ms": 420, "ok": True}, "queues": [{"name": "mail", "depth": 3}]})
        elif url.path == "/broken":
            self.send_json(500, {"error": "boom"})
        elif url.path == "/api/v1/query":
            query = parse_qs(url.query)["query"][0]
            if query == "bad(":
                self.send_json(400, {"status": "error", "errorType": "bad_data", "error": "parse error"})
            else:
                result = Api.prom if query != "empty" else []
                self.send_json(200, {"status": "success", "data": {"resultType": "vector", "result": result}})
        else:
            self.send_json(404, {})


@pytest.fixture
def api() -> Iterator[str]:
    with peer(Api) as port:
        yield f"http://127.0.0.1:{port}"


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    with sqlite3.connect(tmp_path / "shop.db") as db:
        db.execute("CREATE TABLE payouts (id INTEGER, on_time INTEGER, settled_at TEXT)")
        db.executemany(
            "INSERT INTO payouts VALUES (?, ?, ?)", [(i, int(i % 50 != 0), "2026-11-20") for i in range(1000)]
        )
        db.execute("CREATE TABLE empty (x REAL)")
    (tmp_path / "deliveries.csv").write_text("order,days\n1,2\n2,3\n3,4\n4,3\n")
    return tmp_path


WORKSPACE = """\
name: Shop
sources:
  shop: {{type: sql, url: "sqlite:///shop.db"}}
  files: {{type: file}}
  api: {{type: http, base_url: "{api}"}}
  prom: {{type: prometheus, url: "{api}"}}
  local: {{type: command, timeout: 5s}}
outcomes:
  - id: paid
    title: Merchants are paid on time
    for_whom: Merchants
    guarantee:
      schedule: 15m
      indicators:
        - {{id: on-time, source: shop, query: "SELECT 100.0 * avg(on_time), max(settled_at) FROM payouts",
            unit: "%", target: ">= 97", warn: ">= 99"}}
        - {{id: delivery-days, source: files, query: "SELECT avg(days) FROM 'deliveries.csv'", target: "<= 5"}}
  - id: fast-checkout
    title: Checkout is fast
    for_whom: Shoppers
    guarantee:
      indicators:
        - {{id: p95, source: api, query: /status, jsonpath: "$.checkout.p95_ms", unit: ms, target: "< 500"}}
        - {{id: mail-depth, source: api, query: /status, jmespath: "queues[?name=='mail'].depth | [0]",
            target: "< 10"}}
        - {{id: availability, source: prom, query: "avg(up)", target: ">= 0.999"}}
        - {{id: disk, source: local, query: "{python} -c 'print(42)'", unit: GB, target: "> 10"}}
"""


def _workspace(folder: Path, api: str, extra: str = "") -> Path:
    path = folder / "guarantor.yaml"
    path.write_text(WORKSPACE.format(api=api, python=sys.executable) + extra)
    return path


def test_every_source_for_real(cli, shop: Path, api: str) -> None:
    path = _workspace(shop, api)
    r = cli("check", str(path), "--json")
    assert r.out, r.err
    report = json.loads(r.out)
    assert report["evaluated"] == 6, r.err
    latest = {i["id"]: i["latest"] for o in report["outcomes"] for i in o["indicators"]}
    assert latest["on-time"]["value"] == "98.0" and latest["on-time"]["status"] == "AT_RISK"
    assert latest["on-time"]["value_at"].startswith("2026-11-20")
    assert latest["delivery-days"]["value"] == "3.0" and latest["delivery-days"]["status"] == "MET"
    assert latest["p95"]["value"] == "420" and latest["mail-depth"]["value"] == "3"
    assert latest["availability"]["value"] == "0.9993" and latest["availability"]["status"] == "MET"
    assert latest["availability"]["value_at"].startswith("2023-11-14")
    assert latest["disk"]["value"] == "42"
    statuses = {o["outcome"]: o["status"] for o in report["outcomes"]}
    assert statuses == {"paid": "AT_RISK", "fast-checkout": "MET"}
    assert r.code == 10, "exit code of the worst status: at risk"


def test_a_second_check_in_the_same_slot_measures_nothing(cli, shop: Path, api: str) -> None:
    path = _workspace(shop, api)
    assert json.loads(cli("check", str(path), "--json").out)["evaluated"] == 6
    again = json.loads(cli("check", str(path), "--json").out)
    assert again["evaluated"] == 0 and again["skipped"] == 6
    forced = json.loads(cli("check", str(path), "--json", "--all", "--outcome", "paid").out)
    assert forced["evaluated"] == 2 and [o["outcome"] for o in forced["outcomes"]] == ["paid"]
    hist = json.loads(cli("history", "paid", "-w", str(path), "--json").out)
    assert len(hist["on-time"]) == 2 and {m["trigger"] for m in hist["on-time"]} == {"schedule", "manual"}


@pytest.mark.parametrize(
    ("query", "status", "reason"),
    [
        ("SELECT x FROM empty", "NO_DATA", "no rows"),
        ("SELECT NULL", "NO_DATA", "NULL"),
        ("SELECT count(*) FROM missing_table", "ERROR", "no such table: missing_table"),
        ("SELECT 'abc'", "ERROR", "not a number"),
        ("SELECT 1", "BROKEN", "misses the target"),
    ],
)
def test_no_silent_pass(cli, shop: Path, api: str, query: str, status: str, reason: str) -> None:
    path = _workspace(shop, api)
    text = path.read_text().replace('"SELECT 100.0 * avg(on_time), max(settled_at) FROM payouts"', json.dumps(query))
    path.write_text(text)
    r = cli("check", str(path), "--json", "--outcome", "paid")
    on_time = json.loads(r.out)["outcomes"][0]["indicators"][0]["latest"]
    assert on_time["status"] == status and reason in on_time["reason"]
    with sqlite3.connect(shop / "shop.db") as db:
        assert db.execute("SELECT count(*) FROM payouts").fetchone()[0] == 1000


def test_a_write_is_refused_before_anything_runs(cli, shop: Path, api: str) -> None:
    path = _workspace(shop, api)
    query = json.dumps("DELETE FROM payouts RETURNING 1")
    path.write_text(path.read_text().replace('"SELECT 100.0 * avg(on_time), max(settled_at) FROM payouts"', query))
    r = cli("check", str(path), "--json", "--outcome", "paid")
    assert r.code == 3 and "query: only a SELECT" in r.err and r.out == "", r.err
    with sqlite3.connect(shop / "shop.db") as db:
        assert db.execute("SELECT count(*) FROM payouts").fetchone()[0] == 1000


def test_http_and_prometheus_failures_are_errors_or_no_data(cli, shop: Path, api: str) -> None:
    path = _workspace(shop, api)
    text = path.read_text().replace("query: /status, jsonpath", "query: /broken, jsonpath")
    text = text.replace('query: "avg(up)"', 'query: "empty"').replace("$.checkout.p95_ms", "$.nothing")
    path.write_text(text.replace("query: /status, jmespath", "query: /broken, jmespath"))
    out = json.loads(cli("check", str(path), "--json", "--outcome", "fast-checkout").out)
    latest = {i["id"]: i["latest"] for i in out["outcomes"][0]["indicators"]}
    assert latest["p95"]["status"] == "ERROR" and "HTTP 500" in latest["p95"]["reason"]
    assert latest["availability"]["status"] == "NO_DATA" and "empty vector" in latest["availability"]["reason"]
    path.write_text(path.read_text().replace('query: "empty"', 'query: "bad("'))
    out = json.loads(cli("check", str(path), "--json", "--all", "--outcome", "fast-checkout").out)
    latest = {i["id"]: i["latest"] for i in out["outcomes"][0]["indicators"]}
    assert latest["availability"]["status"] == "ERROR" and "HTTP 400" in latest["availability"]["reason"]


def test_a_source_that_does_not_answer_is_an_error(cli, shop: Path) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"
    r = cli("check", str(_workspace(shop, dead)), "--json", "--outcome", "fast-checkout")
    assert r.code == 13
    latest = json.loads(r.out)["outcomes"][0]["indicators"][0]["latest"]
    assert latest["status"] == "ERROR" and "refused" in latest["reason"].lower()


def test_missing_env_var_is_reported_before_anything_runs(cli, shop: Path, api: str, monkeypatch) -> None:
    monkeypatch.delenv("SHOP_DB_URL", raising=False)
    path = _workspace(shop, api)
    path.write_text(path.read_text().replace('url: "sqlite:///shop.db"', "url: {env: SHOP_DB_URL}"))
    r = cli("check", str(path))
    assert r.code == 3 and f"{path}:3:" in r.err and "SHOP_DB_URL is not set" in r.err
    assert json.loads(cli("history", "paid", "-w", str(path), "--json").out) == {"on-time": [], "delivery-days": []}
    monkeypatch.setenv("SHOP_DB_URL", f"sqlite:///{shop / 'shop.db'}")
    r = cli("check", str(path), "--json")
    assert json.loads(r.out)["evaluated"] == 6
    assert str(shop / "shop.db") not in r.out + r.err, "a secret's value is never shown"


def test_postgresql_source(cli, shop: Path, api: str, pg_source: tuple[str, str]) -> None:  # type: ignore[no-untyped-def]
    import psycopg

    admin, reader = pg_source
    with psycopg.connect(admin.replace("postgresql+psycopg", "postgresql"), autocommit=True) as conn:
        conn.execute("CREATE TABLE signups (minutes numeric)")
        conn.execute("INSERT INTO signups VALUES (12.5), (30), (7.25)")
        conn.execute("CREATE SEQUENCE tickets")
    path = _workspace(shop, api)
    original = '"SELECT 100.0 * avg(on_time), max(settled_at) FROM payouts"'
    path.write_text(
        path.read_text()
        .replace('url: "sqlite:///shop.db"', f'url: "{reader}"')
        .replace(original, '"SELECT max(minutes) FROM signups"')
    )
    latest = json.loads(cli("check", str(path), "--json", "--outcome", "paid").out)["outcomes"][0]["indicators"][0]
    assert latest["latest"]["value"] == "30" and latest["latest"]["status"] == "BROKEN"
    refused = ("DROP TABLE signups", "SELECT 1; DROP TABLE signups", "SELECT set_config('a.b', 'c', false)")
    for query in (*refused, "SELECT nextval('tickets')"):
        path.write_text(path.read_text().replace('"SELECT max(minutes) FROM signups"', json.dumps(query)))
        r = cli("check", str(path), "--json", "--all", "--outcome", "paid")
        assert r.code == 3 and "query:" in r.err, r.err
        path.write_text(path.read_text().replace(json.dumps(query), '"SELECT max(minutes) FROM signups"'))
    # The admin's role is a superuser: refused, unless the file names it under privileged_role.
    path.write_text(path.read_text().replace(reader, admin))
    latest = json.loads(cli("check", str(path), "--json", "--all", "--outcome", "paid").out)["outcomes"][0]
    assert "a superuser" in latest["indicators"][0]["latest"]["reason"], latest
    role = admin.split("://", 1)[1].split("@", 1)[0]
    path.write_text(path.read_text().replace(f'url: "{admin}"', f'url: "{admin}", privileged_role: {role}'))
    latest = json.loads(cli("check", str(path), "--json", "--all", "--outcome", "paid").out)["outcomes"][0]
    assert latest["indicators"][0]["latest"]["value"] == "30", latest


def test_a_sql_source_measures_on_as_many_workers_as_a_check_runs(tmp_path: Path) -> None:
    """Each worker measuring at once has a connection of its own, however many: an engine's pool
    of 15 made the 16th wait half a minute for one and then fail."""
    from concurrent.futures import ThreadPoolExecutor

    from guarantor.guarantees.sources.sql import SqlSource, SqlSpec
    from guarantor.guarantees.spec import Indicator

    target = tmp_path / "data.db"
    sqlite3.connect(target).close()
    source = SqlSource(SqlSpec(type="sql", url=f"sqlite:///{target}"), Context(tmp_path, False))
    counting = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200000) SELECT count(*) FROM n"
    indicator = Indicator(id="i", source="s", query=counting, target=">= 0")
    try:
        with ThreadPoolExecutor(24) as pool:
            assert {r.value for r in pool.map(lambda _: source.measure(indicator, 20.0), range(24))} == {200000}
    finally:
        source.close()


def test_a_postgresql_source_measures_again_after_its_connections_were_cut(
    tmp_path: Path, database_url: str, pg_source: tuple[str, str]
) -> None:
    """The source keeps its connections between measurements; when the server drops them (a
    restart, a failover), one measurement fails and the next connects anew, however many were kept."""
    from concurrent.futures import ThreadPoolExecutor

    import psycopg

    from guarantor.guarantees.sources.base import SourceError
    from guarantor.guarantees.sources.sql import SqlSource, SqlSpec
    from guarantor.guarantees.spec import Indicator

    admin = database_url.replace("postgresql+psycopg", "postgresql")
    source_db = pg_source[1].rsplit("/", 1)[1]
    source = SqlSource(SqlSpec(type="sql", url=pg_source[1]), Context(tmp_path, False))
    slow = Indicator(id="i", source="s", query="SELECT count(*) FROM generate_series(1, 1500000)", target=">= 0")
    quick = Indicator(id="i", source="s", query="SELECT 7", target=">= 0")
    try:
        with ThreadPoolExecutor(3) as pool:  # three at once: three connections kept
            assert [r.value for r in pool.map(lambda _: source.measure(slow, 5.0), range(3))] == [1500000] * 3
        with psycopg.connect(admin, autocommit=True) as conn:
            cut = conn.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = %s", (source_db,)
            ).fetchone()
        assert cut == (3,)
        with pytest.raises(SourceError):
            source.measure(quick, 5.0)
        assert source.measure(quick, 5.0).value == 7
    finally:
        source.close()


def test_frozen_clock_two_runners_measure_each_slot_once(env, shop: Path, api: str) -> None:
    path = _workspace(shop, api)
    ws, marks = parse(path.read_text(), str(path))
    context = Context(shop, allow_command=True)
    now = datetime(2026, 11, 21, 9, 7, tzinfo=UTC)
    db = workspace_db(env.resolved_database_url, path)
    reports: list[runner.RunReport] = []

    def run() -> None:
        reports.append(runner.check(db, ws, marks, str(path), context, lambda: now, workers=4))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r.evaluated for r in reports) == 6, "each slot measured by exactly one of the two runners"
    assert sum(r.skipped for r in reports) == 6
    later = runner.check(db, ws, marks, str(path), context, lambda: now + timedelta(minutes=15))
    assert later.evaluated == 2, "only the 15-minute outcome has a new slot"
    with db.transaction() as session:
        from guarantor.guarantees import repository

        rows = repository.history(session, ["on-time"])
        assert [m.scheduled_at for m in rows] == [
            datetime(2026, 11, 21, 9, 0, tzinfo=UTC),
            datetime(2026, 11, 21, 9, 15, tzinfo=UTC),
        ]
    db.close()


def test_killed_mid_check_leaves_history_consistent(env, shop: Path, api: str, tmp_path: Path) -> None:
    import signal
    import subprocess
    import time

    path = _workspace(shop, api)
    (shop / "disk.py").write_text("import os, time\nif os.path.exists('slow'):\n    time.sleep(30)\nprint(42)\n")
    (shop / "slow").touch()
    path.write_text(path.read_text().replace(f"{sys.executable} -c 'print(42)'", f"{sys.executable} disk.py"))
    environ = {**os.environ, "GUARANTOR_DATABASE_URL": env.resolved_database_url, "GUARANTOR_CHECK_RETRIES": "0"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "guarantor", "check", str(path)],
        env=environ,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    db = workspace_db(env.resolved_database_url, path)
    from guarantor.guarantees.models import Claim, Measurement

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # wait until the fast ones are stored and the slow one is running
        with db.transaction() as s:
            if s.query(Measurement).count() >= 5 and s.query(Claim).count() == 1:
                break
        time.sleep(0.1)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    (shop / "slow").unlink()  # the same spec (so the same slot) now answers at once
    done = subprocess.run(
        [sys.executable, "-m", "guarantor", "check", str(path), "--json"],
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
    )
    report = json.loads(done.stdout)
    assert report["evaluated"] == 1, "the killed run's claim is taken over; the stored ones are not redone"
    with db.transaction() as s:
        keys = [(m.indicator_id, m.scheduled_at) for m in s.query(Measurement)]
        assert len(keys) == len(set(keys)) == 6
        assert s.query(Claim).count() == 0
    db.close()
