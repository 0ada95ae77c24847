"""Live sync against a loopback server that answers as GitHub's REST API documents: pages linked by
the Link header, ``since`` for what changed, rate limits (primary and secondary) and errors."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from guarantor.db.session import Database
from guarantor.errors import Forbidden, InputError, NetworkError, NotFound
from guarantor.work import repository
from guarantor.work.sync.driver import SyncResult, Tracker, sync
from guarantor.work.sync.github import GitHub
from guarantor.work.sync.jira import Jira
from guarantor.work.sync.linear import Linear
from tests.http_peer import JsonHandler, peer
from tests.scoped import workspace_db

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def _issue(number: int, updated: str, title: str | None = None) -> dict[str, Any]:
    return {
        "number": number,
        "title": title or f"Issue {number}",
        "body": "",
        "state": "open",
        "created_at": "2026-01-01T00:00:00Z",
        "updated_at": updated,
        "closed_at": None,
        "labels": [{"name": "outcome:fast-support"}] if number % 2 else [],
        "html_url": f"https://github.com/acme/shop/issues/{number}",
        "repository_url": "https://api.github.com/repos/acme/shop",
    }


class FakeGitHub:
    """The issues of one repository, oldest update first, two a page; scripted failures by request."""

    def __init__(self) -> None:
        self.issues = [_issue(n, f"2026-11-0{n}T10:00:00Z") for n in range(1, 6)]
        self.requests: list[dict[str, list[str]]] = []
        self.script: dict[int, tuple[int, dict[str, str], str]] = {}  # request number (from 1) -> its answer
        self.lock = threading.Lock()

    def handler(self) -> type[JsonHandler]:
        fake = self

        class Handler(JsonHandler):
            def do_GET(self) -> None:
                url = urlparse(self.path)
                query = parse_qs(url.query)
                with fake.lock:
                    fake.requests.append({"path": [url.path], "auth": [self.headers.get("Authorization", "")], **query})
                    failure = fake.script.get(len(fake.requests))
                if failure:
                    code, headers, message = failure
                    data = json.dumps({"message": message}).encode()
                    self.send_response(code)
                    for k, v in headers.items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                    return
                if url.path != "/repos/acme/shop/issues":
                    self.send_json(404, {"message": "Not Found"})
                    return
                since = query.get("since", [""])[0]
                chosen = sorted((i for i in fake.issues if i["updated_at"] >= since), key=lambda i: i["updated_at"])
                page = int(query.get("page", ["1"])[0])
                body = chosen[(page - 1) * 2 : page * 2]
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                if page * 2 < len(chosen):
                    base = f"http://127.0.0.1:{self.server.server_address[1]}{url.path}"
                    self.send_header("Link", f'<{base}?since={since}&page={page + 1}>; rel="next"')
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler


@pytest.fixture
def github() -> Iterator[tuple[FakeGitHub, GitHub]]:
    fake = FakeGitHub()
    with peer(fake.handler()) as port:
        yield fake, GitHub(f"http://127.0.0.1:{port}", "t0ken")


@pytest.fixture
def db(database_url: str, tmp_path: Path) -> Iterator[Database]:
    (tmp_path / "guarantor.yaml").write_text("name: Synced\n")
    database = workspace_db(database_url, tmp_path)
    yield database
    database.close()


def sync_github(
    db: Database, scope: str, api: Tracker, exposure: None, clock: Any, sleep: Any = lambda s: None
) -> SyncResult:
    return sync(db, api, scope, exposure, clock, 5.0, 120.0, sleep)


def _count(db: Database) -> int:
    with db.transaction() as session:
        return repository.count(session)


def test_first_sync_takes_every_page_then_only_what_changed(github, db) -> None:
    fake, api = github
    first = sync_github(db, "acme/shop", api, None, lambda: NOW)
    assert (first.pages, first.items, first.inserted) == (3, 5, 5) and _count(db) == 5
    assert fake.requests[0]["auth"] == ["Bearer t0ken"] and "since" not in fake.requests[0]
    assert fake.requests[0]["sort"] == ["updated"] and fake.requests[0]["direction"] == ["asc"]
    fake.issues[1] = _issue(2, "2026-11-20T09:00:00Z", "Issue 2, renamed")
    fake.requests.clear()
    second = sync_github(db, "acme/shop", api, None, lambda: NOW)
    assert fake.requests[0]["since"] == ["2026-11-05T10:00:00Z"], "only what changed since the newest stored"
    assert second.updated == 1 and second.inserted == 0 and _count(db) == 5
    with db.transaction() as session:
        assert repository.find(session, "github", "acme/shop#2").title == "Issue 2, renamed"  # type: ignore[union-attr]


def test_every_field_an_import_writes_lands_in_its_own_column(db) -> None:
    """An import sends each item as a tuple of values in the order of its columns' names: every
    field, set to a value no other field has, is read back from the column of its name, for a new
    item (insert) and for a changed one (update)."""
    from dataclasses import replace

    from guarantor.work.importers.base import Item
    from guarantor.work.service import import_items

    item = Item(
        "jira", "PAY-7", "Title", kind="bug", body="Body", state="Done", closed=True,
        created_at=datetime(2026, 1, 2, 3, 4, tzinfo=UTC), started_at=datetime(2026, 1, 3, 3, 4, tzinfo=UTC),
        closed_at=datetime(2026, 1, 5, 15, 4, tzinfo=UTC), labels=["l1", "l2"], assignee="Ann", estimate=5.0,
        epic="Epic", sprint="Sprint 9", components=["c1"], url="https://tracker.example/PAY-7", links=["PAY-1"],
    )  # fmt: skip
    plain = ("title", "kind", "body", "state", "closed", "created_at", "started_at", "closed_at", "assignee")
    plain += ("estimate", "epic", "sprint", "url")
    changed = replace(item, title="Title 2", state="Open", closed=False, closed_at=None, assignee="Bo", links=[])
    for given, when in ((item, NOW), (changed, NOW.replace(hour=13))):
        with db.transaction() as session:
            import_items(session, [given], when, lambda texts: ["E2"] * len(texts))
        with db.transaction() as session:
            stored = repository.find(session, "jira", "PAY-7")
            assert stored is not None
            assert {f: getattr(stored, f) for f in plain} == {f: getattr(given, f) for f in plain}
            assert stored.exposure == "E2" and stored.imported_at == when
            lists = (json.loads(stored.labels), json.loads(stored.components), json.loads(stored.links))
            assert lists == (given.labels, given.components, given.links)
            assert stored.content_hash == given.content_hash()
            assert (stored.month, stored.days, stored.size) == repository.derived(given)


def test_rate_limits_are_waited_out_as_github_asks(github, db) -> None:
    fake, api = github
    reset = str(int(datetime.now(UTC).timestamp()) + 30)
    fake.script = {
        1: (403, {"Retry-After": "7"}, "You have exceeded a secondary rate limit."),
        2: (429, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": reset}, "API rate limit exceeded"),
        3: (403, {}, "You have exceeded a secondary rate limit. Please wait a few minutes."),
        4: (502, {}, "Bad gateway"),
    }
    waits: list[float] = []
    result = sync_github(db, "acme/shop", api, None, lambda: NOW, sleep=waits.append)
    assert waits[0] == 7 and 25 <= waits[1] <= 32 and waits[2] == 60 and waits[3] == 2, waits
    assert result.items == 5 and _count(db) == 5 and result.waited_s == sum(waits)


@pytest.mark.parametrize(
    "failure",
    [(403, {"Retry-After": "3600"}, "secondary rate limit"), (500, {}, "Internal error")],
    ids=["rate limited for an hour", "server down"],
)
def test_a_stopped_sync_resumes_from_its_last_stored_page_without_duplicates(github, db, failure) -> None:
    fake, api = github
    fake.script = {n: failure for n in range(2, 8)}  # page 1 passes; page 2 fails on every attempt
    with pytest.raises(NetworkError, match=r"rate limit asks to wait 3600 s|still fails after 5 attempts"):
        sync_github(db, "acme/shop", api, None, lambda: NOW, sleep=lambda s: None)
    assert _count(db) == 2, "page 1 was stored with its cursor before page 2 failed"
    fake.script, fake.requests = {}, []
    again = sync_github(db, "acme/shop", api, None, lambda: NOW)
    assert fake.requests[0]["since"] == ["2026-11-02T10:00:00Z"]
    assert again.inserted == 3 and _count(db) == 5


def test_refusals_say_what_to_do(github, db) -> None:
    fake, api = github
    fake.script = {1: (401, {}, "Bad credentials")}
    with pytest.raises(Forbidden, match="refused the token"):
        sync_github(db, "acme/shop", api, None, lambda: NOW)
    with pytest.raises(NotFound, match="not found, or the token cannot see it"):
        sync_github(db, "acme/other", api, None, lambda: NOW)
    with pytest.raises(InputError, match="OWNER/REPO"):
        sync_github(db, "acme", api, None, lambda: NOW)
    assert _count(db) == 0


def test_sync_command_reads_the_token_from_the_environment(cli, github, monkeypatch: pytest.MonkeyPatch) -> None:
    fake, api = github
    monkeypatch.setenv("GUARANTOR_GITHUB_API_URL", api.api_url)
    monkeypatch.setenv("GITHUB_TOKEN", "from-env")
    from guarantor.settings import get_settings

    get_settings.cache_clear()
    r = cli("sync", "github", "acme/shop")
    assert r.code == 0, r.err
    assert "5 items in 3 page(s): 5 new, 0 updated." in r.out and "First sync" in r.out
    assert fake.requests[0]["auth"] == ["Bearer from-env"]
    r = cli("sync", "github", "acme/shop")
    assert "0 new, 0 updated" in r.out and "Changes since 2026-11-05T10:00:00Z." in r.out


def _serve(answer: Any) -> Any:
    """A loopback API whose answer to each request (method, path, query, JSON body) is ``answer``'s."""
    seen: list[dict[str, Any]] = []

    class Handler(JsonHandler):
        def _answer(self) -> None:
            url = urlparse(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length)) if length else None
            request = {
                "path": url.path,
                "query": parse_qs(url.query),
                "json": body,
                "auth": self.headers.get("Authorization"),
            }
            seen.append(request)
            self.send_json(*answer(request))

        do_GET = do_POST = _answer

    return Handler, seen


def _jira_issue(key: str, updated: str, done: bool = False) -> dict[str, Any]:
    return {
        "key": key,
        "fields": {
            "summary": f"Story {key}",
            "issuetype": {"name": "Story"},
            "description": {
                "type": "doc",
                "content": [{"type": "paragraph", "content": [{"type": "text", "text": "Pay merchants"}]}],
            },
            "status": {
                "name": "Aborted" if done else "In Progress",
                "statusCategory": {"key": "done" if done else "indeterminate"},
            },
            "created": "2025-12-01T09:00:00.000+0100",
            "updated": updated,
            "resolutiondate": None,
            "statuscategorychangedate": "2025-12-22T14:38:00.000+0100",
            "labels": ["payments"],
            "assignee": {"displayName": "Ana"},
            "components": [{"name": "ledger"}],
            "parent": {"key": "PAY-1", "fields": {"summary": "Payouts"}},
            "customfield_10016": 3.0,
            "customfield_10020": [{"name": "Sprint 3"}, {"name": "Sprint 4"}],
        },
    }


@pytest.mark.parametrize("server", [False, True], ids=["cloud nextPageToken", "server startAt"])
def test_jira_pages_reads_cloud_fields_and_asks_only_for_what_changed(db, server: bool) -> None:
    issues = [_jira_issue(f"PAY-{n}", f"2025-12-2{n}T10:00:00.000+0100", done=n == 2) for n in (2, 3, 4)]

    def answer(request: dict[str, Any]) -> tuple[int, Any]:
        q = request["query"]
        if server:
            start = int(q["startAt"][0])
            return 200, {"startAt": start, "maxResults": 2, "total": 3, "issues": issues[start : start + 2]}
        if "nextPageToken" in q:
            return 200, {"issues": issues[2:], "isLast": True}
        return 200, {"issues": issues[:2], "nextPageToken": "p2", "isLast": False}

    handler, seen = _serve(answer)
    with peer(handler) as port:
        jira = Jira(f"http://127.0.0.1:{port}", "project = PAY order by created DESC", "ana@example.com", "tok", server)
        first = sync(db, jira, "pay", None, lambda: NOW, 5.0, 60.0)
        assert (first.pages, first.items, first.inserted) == (2, 3, 3)
        assert seen[0]["path"] == ("/rest/api/2/search" if server else "/rest/api/3/search/jql")
        assert seen[0]["query"]["jql"] == ["(project = PAY) ORDER BY updated ASC"]
        assert seen[0]["auth"].startswith("Basic ")
        seen.clear()
        sync(db, jira, "pay", None, lambda: NOW, 5.0, 60.0)
        assert seen[0]["query"]["jql"] == ['(project = PAY) AND updated >= "2025/12/23 09:00" ORDER BY updated ASC']
    with db.transaction() as session:
        done = repository.find(session, "jira", "PAY-2")
        assert done is not None and done.closed and done.epic == "Payouts" and done.body == "Pay merchants"
        assert done.closed_at == datetime(2025, 12, 22, 13, 38, tzinfo=UTC), "done by category, closed when it changed"
        assert done.estimate == 3 and json.loads(done.components) == ["ledger"] and done.sprint == "Sprint 4"


def test_linear_pages_through_graphql_and_asks_only_for_what_changed(db) -> None:
    nodes = [
        {"identifier": f"ENG-{n}", "title": f"Issue {n}", "description": "", "url": None,
         "createdAt": "2026-11-01T10:00:00.000Z", "updatedAt": f"2026-11-0{n}T10:00:00.000Z", "startedAt": None,
         "completedAt": "2026-11-03T10:00:00.000Z" if n == 3 else None, "canceledAt": None, "estimate": 2,
         "state": {"name": "Done" if n == 3 else "Todo", "type": "completed" if n == 3 else "unstarted"},
         "labels": {"nodes": [{"name": "backend"}]}, "assignee": {"name": "Ana"}, "project": {"name": "Payouts"},
         "team": {"key": "ENG", "name": "Platform"}, "parent": None, "cycle": {"name": None, "number": 7}}
        for n in (2, 3, 4)
    ]  # fmt: skip

    def answer(request: dict[str, Any]) -> tuple[int, Any]:
        variables = request["json"]["variables"]
        if variables.get("after") == "c2":
            return 200, {
                "data": {"issues": {"nodes": nodes[2:], "pageInfo": {"hasNextPage": False, "endCursor": "c3"}}}
            }
        return 200, {"data": {"issues": {"nodes": nodes[:2], "pageInfo": {"hasNextPage": True, "endCursor": "c2"}}}}

    handler, seen = _serve(answer)
    with peer(handler) as port:
        linear = Linear(f"http://127.0.0.1:{port}/graphql", "lin_api_key")
        first = sync(db, linear, "ENG", None, lambda: NOW, 5.0, 60.0)
        assert (first.pages, first.inserted, first.cursor) == (2, 3, "2026-11-04T10:00:00.000Z")
        assert seen[0]["auth"] == "lin_api_key" and seen[0]["json"]["variables"]["filter"] == {
            "team": {"key": {"eq": "ENG"}}
        }
        seen.clear()
        sync(db, Linear(f"http://127.0.0.1:{port}/graphql", "lin_api_key"), "ENG", None, lambda: NOW, 5.0, 60.0)
        assert seen[0]["json"]["variables"]["filter"]["updatedAt"] == {"gt": "2026-11-04T10:00:00.000Z"}
    with db.transaction() as session:
        done = repository.find(session, "linear", "ENG-3")
        assert done is not None and done.closed and done.epic == "Payouts" and done.estimate == 2 and done.sprint == "7"


def test_watch_syncs_on_a_schedule_and_a_failing_sync_does_not_stop_it(env, github, tmp_path) -> None:
    _, api = github
    (tmp_path / "guarantor.yaml").write_text("name: Synced\n")
    environ = {**os.environ, "GUARANTOR_GITHUB_API_URL": api.api_url, "GITHUB_TOKEN": "t0ken"}
    log = tmp_path / "watch.log"
    args = ["watch", str(tmp_path), "--sync", "github acme/shop", "--sync", "github acme/gone", "--sync-every", "1h"]
    db = workspace_db(env.resolved_database_url, tmp_path)
    with log.open("wb") as err:
        watch = subprocess.Popen([sys.executable, "-m", "guarantor", *args], env=environ, stderr=err)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (
            "synced github acme/shop" in log.read_text() and "sync github acme/gone failed" in log.read_text()
        ):
            time.sleep(0.3)
        assert _count(db) == 5, log.read_text()
        text = log.read_text()
        assert "synced github acme/shop: 5 items in 3 page(s)" in text
        assert "sync github acme/gone failed, next turn resumes" in text and watch.poll() is None
    finally:
        watch.send_signal(signal.SIGTERM)
        watch.wait(timeout=30)
        db.close()
    assert watch.returncode == 0
