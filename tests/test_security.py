"""Attacks on a real server on loopback, as an editor, a viewer, a stranger at the login form and
the author of a hostile workspace file. Each must be refused with a clear error and leave nothing
behind: no file written or read, no secret sent elsewhere, no edit stored, no script in a page."""

from __future__ import annotations

import json
import logging
import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest
import yaml

from guarantor.db.session import Database
from guarantor.guarantees.sources.base import Context, SourceError
from guarantor.guarantees.sources.sql import SqlSource, SqlSpec
from guarantor.guarantees.spec import Indicator
from guarantor.settings import Settings
from tests.http_peer import JsonHandler, peer
from tests.web_server import PASSWORD, Server, api, browser, free_port, serving

SECRET_MARKER = "s3cr3t-marker-7f1c"
XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def _indicator(source: str, query: str, **extra: Any) -> dict[str, Any]:
    return {"indicators": [{"id": "probe", "source": source, "query": query, "target": ">= 0", **extra}]}


def _patch_guarantee(server: Server, outcome: str, guarantee: dict[str, Any], role: str = "editor") -> httpx.Response:
    with api(server, role) as c:
        return c.patch(f"/api/v1/outcomes/{outcome}", json={"guarantee": guarantee})


def _refused(server: Server, outcome: str, indicator: dict[str, Any]) -> httpx.Response:
    """An editor's guarantee that must be answered 422 and never reach the workspace file."""
    before = server.workspace.read_text()
    answer = _patch_guarantee(server, outcome, indicator)
    assert answer.status_code == 422, answer.text
    assert server.workspace.read_text() == before
    return answer


def _check(server: Server, outcome: str) -> dict[str, Any]:
    with api(server) as c:
        answer = c.post("/api/v1/checks", json={"outcome": outcome})
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


def _probe(result: dict[str, Any]) -> dict[str, Any]:
    indicator: dict[str, Any] = result["outcomes"][0]["indicators"][0]["latest"]
    return indicator


@pytest.mark.parametrize(
    "query",
    [
        "COPY (SELECT 'pwned') TO 'pwned.csv'",
        "COPY (SELECT 'sources: {x: {type: command}}') TO 'guarantor.yaml' (HEADER false)",
        "SELECT 1; COPY (SELECT 1) TO 'pwned.csv'",
        "ATTACH 'pwned.db' AS p",
        "EXPORT DATABASE 'pwned'",
        "INSTALL httpfs",
        "LOAD httpfs",
        "SET enable_external_access = true",
        "CREATE TABLE pwned AS SELECT 1",
        "PRAGMA version",
    ],
)
def test_an_editor_cannot_write_files_through_a_file_source(server: Server, query: str) -> None:
    answer = _refused(server, "quick-delivery", _indicator("files", query))
    problems = answer.json()["error"]["problems"]
    assert any(p["field"].endswith("query") and ("SELECT" in p["message"]) for p in problems), problems
    assert not list(server.workspace.parent.glob("pwned*"))


def test_an_editor_cannot_read_files_beyond_the_source_folder(server: Server, tmp_path: Path) -> None:
    outside = tmp_path / "outside.csv"
    outside.write_text(f"secret\n{SECRET_MARKER}\n")
    inside = server.workspace.parent / "notes.txt"
    inside.write_text(f"{SECRET_MARKER}\n")
    (server.workspace.parent / ".env").write_text(f"TOKEN={SECRET_MARKER}\n")
    url = server.settings.resolved_database_url
    database = url.removeprefix("sqlite:///") if url.startswith("sqlite") else f"{server.settings.home}/guarantor.db"
    queries = [
        "SELECT count(*) FROM read_csv('/etc/passwd')",
        f"SELECT count(*) FROM read_csv('{outside}')",
        "SELECT count(*) FROM read_csv('../outside.csv')",
        f"SELECT length(content) FROM read_text('{database}')",
        f"SELECT length(content) FROM read_text('{server.settings.home}/models/*')",
        "SELECT count(*) FROM read_csv('http://127.0.0.1:9/x.csv')",
        "SELECT CAST(content AS INTEGER) FROM read_text('notes.txt')",  # inside: allowed, but no echo
        "SELECT length(content) FROM read_text('.env')",  # hidden: a repository's secrets
        "SELECT ascii(content) FROM read_text('.tokens')",
        "SELECT length(content) FROM read_text('guarantor.yaml')",  # not a data file
        "SELECT count(*) FROM glob('*')",
        "SELECT CAST(secret AS INTEGER) FROM '../outside.csv'",
    ]
    refused = []
    for query in queries:  # refused when validated (a function off the allowlist), or ERROR when measured
        answer = _patch_guarantee(server, "quick-delivery", _indicator("files", query))
        if answer.status_code == 422:
            refused.append(query)
            assert query not in server.workspace.read_text()
            continue
        assert answer.status_code == 200, answer.text
        probe = _probe(_check(server, "quick-delivery"))
        assert probe["status"] == "ERROR", (query, probe)
        assert SECRET_MARKER not in json.dumps(probe) and "root:" not in json.dumps(probe), (query, probe)
    assert [q for q in queries if "read_text" in q or "glob(" in q] == refused
    # Guarantor's own database is whole and still answers: tokens and revocations hold.
    if url.startswith("sqlite"):
        with sqlite3.connect(database) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    with api(server, "viewer") as c:
        assert c.get("/api/v1/me").status_code == 200


WORKSPACE_WITH_FILES = (
    "name: Beside Guarantor\nsources:\n  files: {type: file}\noutcomes:\n"
    "  - id: o\n    title: T\n    for_whom: W\n    guarantee:\n      indicators:\n"
    "        - {id: i, source: files, query: 'SELECT 1', target: '>= 0'}\n"
)


def test_a_file_source_refuses_a_folder_holding_guarantors_own_files(cli, env: Settings) -> None:  # type: ignore[no-untyped-def]
    folders = [(env.home / "workspace", "home folder")]
    if env.resolved_database_url.startswith("sqlite"):
        folders.append((Path(env.resolved_database_url.removeprefix("sqlite:///")).parent, "database"))
    for folder, what in folders:
        folder.mkdir(exist_ok=True)
        (folder / "guarantor.yaml").write_text(f"key: beside-{what.split()[0]}\n" + WORKSPACE_WITH_FILES)
        r = cli("check", str(folder), "--json", "--all")
        probe = json.loads(r.out)["outcomes"][0]["indicators"][0]["latest"]
        assert probe["status"] == "ERROR" and f"Guarantor's own {what}" in probe["reason"], probe


@pytest.mark.parametrize(
    "query",
    [
        "ATTACH DATABASE '{db}' AS g",
        "SELECT 1; DELETE FROM payouts",
        "DELETE FROM payouts",
        "PRAGMA writable_schema = 1",
        "CREATE TABLE pwned (x)",
    ],
)
def test_an_editor_cannot_write_or_attach_through_a_sql_source(server: Server, query: str) -> None:
    database = server.settings.resolved_database_url.removeprefix("sqlite:///")
    _refused(server, "fast-support", _indicator("shop", query.format(db=database)))


@pytest.mark.parametrize(
    "query",
    [
        "ATTACH DATABASE '{db}' AS g",
        "SELECT load_extension('/tmp/x.so')",
        "PRAGMA writable_schema = 1",
        "SELECT 1; SELECT 2",
        "DELETE FROM t RETURNING 1",
    ],
)
def test_sqlite_refuses_at_run_time_what_validation_may_not_see(tmp_path: Path, env: Settings, query: str) -> None:
    """Validation reads SQL it can parse; what it cannot is left to SQLite, whose authorizer allows
    nothing but reading, so the query fails when it runs."""
    target = tmp_path / "data.db"
    with sqlite3.connect(target) as conn:
        conn.execute("CREATE TABLE t (x)")
        conn.execute("INSERT INTO t VALUES (1)")
    conn.close()
    database = env.resolved_database_url.removeprefix("sqlite:///")
    context = Context.of(tmp_path, False, env.home, env.resolved_database_url)
    source = SqlSource(SqlSpec(type="sql", url=f"sqlite:///{target}"), context)
    indicator = Indicator(id="i", source="s", query=query.format(db=database), target=">= 0")
    try:
        with pytest.raises(SourceError):
            source.measure(indicator, 5.0)
    finally:
        source.close()
    with sqlite3.connect(target) as conn:
        assert conn.execute("SELECT count(*) FROM t").fetchone() == (1,)
    conn.close()


def test_a_sqlite_query_that_overruns_or_writes_says_so_and_the_source_measures_on(
    tmp_path: Path, env: Settings
) -> None:
    """The driver's errors become reasons a person reads, and the connection a failed query ran on
    does not break the next measurement: the source keeps its connections between measurements."""
    target = tmp_path / "data.db"
    with sqlite3.connect(target) as conn:
        conn.execute("CREATE TABLE t (x)")
        conn.execute("INSERT INTO t VALUES (41)")
    conn.close()
    context = Context.of(tmp_path, False, env.home, env.resolved_database_url)
    source = SqlSource(SqlSpec(type="sql", url=f"sqlite:///{target}"), context)
    endless = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT count(*) FROM n"
    try:
        with pytest.raises(SourceError, match=r"^timed out after 0.2 s$"):
            source.measure(Indicator(id="i", source="s", query=endless, target=">= 0"), 0.2)
        with pytest.raises(SourceError, match="only reading is allowed on this source"):
            source.measure(Indicator(id="i", source="s", query="SELECT load_extension('x')", target=">= 0"), 5.0)
        with pytest.raises(SourceError, match="no such table: missing"):
            source.measure(Indicator(id="i", source="s", query="SELECT x FROM missing", target=">= 0"), 5.0)
        reading = source.measure(Indicator(id="i", source="s", query="SELECT x + 1 FROM t", target=">= 0"), 5.0)
        assert reading.value == 42
    finally:
        source.close()


def test_a_sql_source_may_not_be_guarantors_own_database(tmp_path: Path, env: Settings) -> None:
    Database(env.resolved_database_url).close()  # created and migrated, as a server's is
    context = Context.of(tmp_path, False, env.home, env.resolved_database_url)
    with pytest.raises(SourceError, match="Guarantor's own"):
        SqlSource(SqlSpec(type="sql", url=env.resolved_database_url), context)


def _own_aliases(url: str, tmp_path: Path) -> list[str]:
    """Other spellings of Guarantor's own database: by file (a hard link, a symbolic link) for
    SQLite; by host, address and socket for PostgreSQL."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        own = Path(str(parsed.database))
        (tmp_path / "hard.db").hardlink_to(own)
        (tmp_path / "soft.db").symlink_to(own)
        return [f"sqlite:///{tmp_path / 'hard.db'}", f"sqlite:///{tmp_path / 'soft.db'}", "sqlite:///soft.db"]
    user, port, name = parsed.username, parsed.port, parsed.database
    socket = Path(__file__).resolve().parents[1] / ".pg"
    return [
        f"postgresql+psycopg://{user}@localhost:{port}/{name}",
        f"postgresql+psycopg://{user}@127.1:{port}/{name}",
        f"postgresql+psycopg://{user}@127.0.0.1:{port}/{name}?application_name=other",
        f"postgresql+psycopg://{user}@/{name}?host=127.0.0.1&port={port}",
        *([f"postgresql+psycopg://{user}@/{name}?host={socket}&port={port}"] if socket.is_dir() else []),
    ]


def test_guarantors_own_database_is_refused_under_every_alias(tmp_path: Path, env: Settings) -> None:
    """Known by what it is (the file's device and inode; the server's identity and the database's
    oid), not by how its URL is spelt: each alias reads users.password_hash if let through."""
    Database(env.resolved_database_url).close()
    context = Context.of(tmp_path, False, env.home, env.resolved_database_url)
    indicator = Indicator(id="i", source="s", query="SELECT count(password_hash) FROM users", target=">= 0")
    for alias in _own_aliases(env.resolved_database_url, tmp_path):
        with pytest.raises(SourceError, match="Guarantor's own") as caught:
            source = SqlSource(SqlSpec(type="sql", url=alias), context)
            try:
                source.measure(indicator, 5.0)
            finally:
                source.close()
        assert "password" not in str(caught.value), alias


@pytest.mark.parametrize(
    "query",
    [
        "http://127.0.0.1:9/steal",
        "https://example.com/status",
        "//127.0.0.1:9/steal",
        "file:///etc/passwd",
        "/../../etc/passwd",
        "/status/../../admin",
        "/status\\..\\x",
        "/sta tus",
        "/status/%2e%2e/admin",
        "/%2E%2E/%2e%2e/etc/passwd",
        "/status/%252e%252e/admin",
        "/status/.%2e/admin",
        "/status%2f..%2fadmin",
    ],
)
def test_an_http_indicator_is_a_path_under_its_base_url(server: Server, query: str) -> None:
    _refused(server, "fast-checkout", _indicator("status", query, jsonpath="$.x"))


class _Recorder(JsonHandler):
    """Answers /status with JSON, or redirects elsewhere; keeps the headers of every request."""

    seen: ClassVar[list[tuple[int, str, dict[str, str]]]] = []
    redirect_to = ""

    def do_GET(self) -> None:
        self.seen.append((self.server.server_address[1], self.path, dict(self.headers)))
        if self.redirect_to and self.path == "/status":
            self.send_response(302)
            self.send_header("Location", self.redirect_to)
            self.end_headers()
            return
        self.send_json(200, {"latency_ms": {"p95": 120}})


@contextmanager
def _http(redirect_to: str = "") -> Iterator[int]:
    with peer(type("Handler", (_Recorder,), {"redirect_to": redirect_to}), free_port()) as port:
        yield port


def test_a_sources_credentials_stay_with_its_origin(server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STATUS_TOKEN", SECRET_MARKER)
    _Recorder.seen = []
    with _http() as elsewhere, _http(redirect_to=f"http://127.0.0.1:{elsewhere}/landing") as origin:
        data = yaml.safe_load(server.workspace.read_text())
        data["sources"]["status"] = {
            "type": "http",
            "base_url": f"http://127.0.0.1:{origin}",
            "headers": {"Authorization": {"env": "STATUS_TOKEN"}, "X-Api-Key": {"env": "STATUS_TOKEN"}},
        }
        server.workspace.write_text(yaml.safe_dump(data, sort_keys=False))  # the file's author, on disk
        probe = _probe(_check(server, "fast-checkout"))
    assert probe["status"] == "MET", probe
    to_origin = [h for port, _, h in _Recorder.seen if port == origin]
    to_elsewhere = [h for port, _, h in _Recorder.seen if port == elsewhere]
    assert to_origin and to_origin[0].get("Authorization") == SECRET_MARKER
    assert to_elsewhere, "the redirect was followed"
    assert all(SECRET_MARKER not in json.dumps(h) for h in to_elsewhere), to_elsewhere


def test_a_viewer_can_change_nothing(server: Server) -> None:
    before = server.workspace.read_text()
    with api(server, "viewer") as c:
        writes = [
            c.post("/api/v1/outcomes", json={"id": "x", "title": "X", "for_whom": "Y"}),
            c.patch("/api/v1/outcomes/fast-support", json={"title": "Changed"}),
            c.post("/api/v1/tasks", json={"text": "New task"}),
            c.patch("/api/v1/tasks/task-1", json={"text": "Changed"}),
            c.post("/api/v1/links", json={"item": "jira:SHOP-1", "outcome": "fast-support", "decision": "accepted"}),
            c.post("/api/v1/checks", json={}),
        ]
    assert [w.status_code for w in writes] == [403] * len(writes)
    assert all(w.json()["error"]["code"] == "forbidden" for w in writes)
    assert server.workspace.read_text() == before


def test_oversized_bodies_are_refused_before_they_are_read(server: Server) -> None:
    before = server.workspace.read_text()
    limit = server.settings.web_max_body_bytes
    with api(server) as c:
        big = c.post("/api/v1/tasks", json={"text": "x" * (limit + 10)})
        assert big.status_code == 413 and big.json()["error"]["code"] == "too_large"

        def chunks() -> Iterator[bytes]:  # no Content-Length: read up to the limit, then refused
            yield b'{"text": "'
            for _ in range(limit // 65536 + 2):
                yield b"y" * 65536
            yield b'"}'

        streamed = c.post("/api/v1/tasks", content=chunks(), headers={"content-type": "application/json"})
        assert streamed.status_code == 413
        long_text = c.post("/api/v1/tasks", json={"text": "z" * 5000})  # under the body limit, over a field's
        assert long_text.status_code == 422
        deep = c.post("/api/v1/tasks", content=b"[" * 200_000, headers={"content-type": "application/json"})
        assert deep.status_code in (400, 422), deep.text
    assert server.workspace.read_text() == before


def _attempt(client: httpx.Client, username: str, password: str) -> httpx.Response:
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token[1]})


def test_password_guessing_is_slowed_per_user_and_per_client(server: Server, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="guarantor.accounts")
    with httpx.Client(base_url=server.url, timeout=30) as client:
        codes = [_attempt(client, "editor", f"wrong-{i}").status_code for i in range(60)]
        assert codes[: server.settings.login_free_failures] == [401] * server.settings.login_free_failures
        assert 429 in codes
        right = _attempt(client, "editor", PASSWORD)
        assert right.status_code == 429 and "retry-after" in right.headers
        assert "guarantor_session" not in right.cookies
        # another user from the same client is locked too: the client guessed too often
        assert _attempt(client, "viewer", PASSWORD).status_code == 429
    assert any("locked" in r.getMessage() for r in caplog.records), [r.getMessage() for r in caplog.records]


def test_x_forwarded_for_from_an_untrusted_client_does_not_reset_the_login_limit(server: Server) -> None:
    """Each guess claims another address; the server counts the connection's own (loopback), since
    no proxy is trusted (GUARANTOR_WEB_TRUSTED_PROXIES unset)."""
    with httpx.Client(base_url=server.url, timeout=30) as client:
        codes = []
        for i in range(server.settings.login_free_failures + 3):
            client.headers["X-Forwarded-For"] = f"203.0.113.{i + 1}"
            codes.append(_attempt(client, f"nobody{i}", "wrong").status_code)
    assert 429 in codes, codes


def test_everything_users_typed_is_escaped_in_pages_and_the_report(server: Server, cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with api(server) as c:
        created = c.post(
            "/api/v1/outcomes",
            json={"id": "xss", "title": XSS, "for_whom": XSS, "need": XSS, "indicator": XSS, "target": XSS},
        )
        assert created.status_code == 201, created.text
        assert c.post("/api/v1/tasks", json={"text": XSS, "owner": "ana", "serves": ["xss"]}).status_code == 201
    # the file's author writes names, units and systems too
    data = yaml.safe_load(server.workspace.read_text())
    data["people"][0]["name"] = XSS
    data["systems"][0]["name"] = XSS
    data["outcomes"][0]["guarantee"]["indicators"][0]["unit"] = XSS[:32]
    server.workspace.write_text(yaml.safe_dump(data, sort_keys=False))
    with browser(server, "viewer") as (client, _csrf):
        for path in ("/", "/outcomes", "/outcomes/xss", "/outcomes/payouts-on-time", "/people", "/work", "/systems"):
            page = client.get(path)
            assert page.status_code == 200, path
            assert "<script>alert" not in page.text and "<img src=x" not in page.text, path
            if path in ("/outcomes", "/outcomes/xss", "/people", "/systems"):
                assert "&lt;script&gt;" in page.text, path
    report = tmp_path / "report.html"
    assert cli("analyze", str(server.workspace), "-o", str(report)).code == 0
    html = report.read_text()
    assert "<script>alert" not in html and "<img src=x" not in html and "onerror=alert(1)>" not in html
    assert "&lt;script&gt;" in html
    assert '<meta http-equiv="Content-Security-Policy"' in html and "script-src" not in html


def test_a_second_server_process_shares_the_login_backoff(server: Server) -> None:
    """The count lives in the database: a second process answering the same users sees it."""
    with serving(server.settings, server.workspace) as other, httpx.Client(base_url=server.url, timeout=30) as a:
        for i in range(server.settings.login_free_failures):
            assert _attempt(a, "admin", f"wrong-{i}").status_code == 401
        with httpx.Client(base_url=other, timeout=30) as b:
            assert _attempt(b, "admin", PASSWORD).status_code == 429


def test_page_parameters_are_checked_like_the_apis(server: Server) -> None:
    with browser(server, "editor") as (client, csrf):
        for hours in ("nan", "-5", "1e400", "inf"):
            assert client.get(f"/roles/15-1252.00?hours={hours}").status_code == 422, hours
        for value in ("abc", "nan", "1e999"):
            answer = client.post(
                "/outcomes/onboarding-satisfaction/checkins",
                data={"csrf_token": csrf, "indicator": "onboarding-score", "value": value},
            )
            assert answer.status_code == 422 and XSS not in answer.text, value
        sneaky = client.post(
            "/outcomes/onboarding-satisfaction/checkins",
            data={"csrf_token": csrf, "indicator": "onboarding-score", "value": "4", "note": XSS},
        )
        assert sneaky.status_code == 200 and "<script>alert" not in sneaky.text and "&lt;script&gt;" in sneaky.text


def test_a_token_read_answers_while_another_process_holds_the_write_lock(server: Server) -> None:
    """A token's last use is written apart from the request, at most once a minute: a read never
    waits on, or fails with, a database another process is writing (it answered 500 when each read
    wrote)."""
    url = server.settings.resolved_database_url
    if not url.startswith("sqlite"):
        pytest.skip("SQLite's database-wide write lock")
    with sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None) as holder:
        holder.execute("BEGIN IMMEDIATE")  # the write lock, held as a long import would
        try:
            with api(server, "viewer") as c:
                for _ in range(3):
                    answer = c.get("/api/v1/me")
                    assert answer.status_code == 200, answer.text
                    assert answer.elapsed.total_seconds() < 2
        finally:
            holder.execute("ROLLBACK")
    holder.close()
