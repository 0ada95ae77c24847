"""Teams: workspaces sharing one database never see each other's data, through the CLI, the pages
and the API; an existing database upgrades in place; the organisation view adds the teams up."""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from alembic import command
from fastapi.routing import iter_route_contexts
from sqlalchemy import MetaData, create_engine, insert, select
from sqlalchemy.orm import Session

from guarantor.accounts import service as accounts
from guarantor.clock import utcnow
from guarantor.db import scope
from guarantor.db.session import Database, alembic_config
from guarantor.settings import Settings
from guarantor.web.app import create_app
from guarantor.work.models import WorkItem
from guarantor.workspace import repository as workspaces
from tests.http_peer import peer
from tests.scoped import workspace_db
from tests.test_sync import FakeGitHub
from tests.web_server import EXAMPLE, PASSWORD, log_in, serve_process, serving

JIRA = EXAMPLE / "jira-export.csv"


def _team(folder: Path, name: str, outcome: str = "happy") -> Path:
    folder.mkdir(parents=True)
    (folder / "guarantor.yaml").write_text(
        f"name: {name}\npeople:\n  - {{id: ana, name: Ana, role: Registered Nurses}}\n"
        "tasks:\n  - {text: Monitor patients and record their condition, owner: ana, serves: [" + outcome + "]}\n"
        f"outcomes:\n  - id: {outcome}\n    title: Patients feel heard\n    for_whom: Patients\n    guarantee:\n"
        "      indicators:\n        - {id: score, type: manual, target: '>= 4'}\n"
        "  - id: plain\n    title: An intention only\n    for_whom: Patients\n"
    )
    return folder


@pytest.fixture
def teams(tmp_path: Path) -> tuple[Path, Path]:
    return _team(tmp_path / "org" / "ward-a", "Ward A"), _team(tmp_path / "org" / "ward-b", "Ward B")


def _json(cli: Any, *args: str) -> Any:
    r = cli(*args, "--json")
    assert r.code == 0, r.err
    return json.loads(r.out)


def test_one_teams_work_checks_links_and_analyses_never_show_in_the_others(cli, teams) -> None:  # type: ignore[no-untyped-def]
    a, b = teams
    assert cli("import", "jira", str(JIRA), "--no-exposure", "-w", str(a)).code == 0
    assert cli("record", "happy", "4.5", "-w", str(a)).code == 0
    assert _json(cli, "analyze", str(a))["workspace"] == "Ward A"
    item = _json(cli, "balance", str(a))["orphans"][0]["item"]
    assert cli("link", "accept", item, "happy", "-w", str(a)).code == 0
    assert cli("link", "accept", item, "happy", "-w", str(b)).code == 4, "B has no such item"

    assert _json(cli, "balance", str(a))["items"] > 0
    seen_by_b = _json(cli, "balance", str(b))
    assert seen_by_b["items"] == 0 and seen_by_b["orphans"] == []
    assert _json(cli, "analyses", str(b)) == [] and len(_json(cli, "analyses", str(a))) == 1
    assert _json(cli, "history", "happy", "-w", str(b)) == {"score": []}
    assert [m["value"] for m in _json(cli, "history", "happy", "-w", str(a))["score"]] == ["4.5"]
    checked = cli("check", str(b), "--json")
    assert json.loads(checked.out)["outcomes"][0]["status"] == "NO_DATA", "A's check-in is not B's"

    org = _json(cli, "org", str(a.parent))
    by_key = {t["key"]: t for t in org["teams"]}
    assert set(by_key) == {"ward-a", "ward-b"}
    assert by_key["ward-b"]["work_items"] == 0 and by_key["ward-a"]["work_items"] == org["total"]["work_items"] > 0
    assert by_key["ward-a"]["outcomes"] == 2 and by_key["ward-a"]["guaranteed"] == 1
    assert by_key["ward-a"]["aspirational"] == 1 and org["total"]["outcomes"] == 4
    assert by_key["ward-a"]["hours_freed"] is not None and by_key["ward-b"]["hours_freed"] is None
    assert by_key["ward-a"]["orphan_items"] == by_key["ward-a"]["work_items"] - 1, "one item is linked"
    assert by_key["ward-b"]["outcomes_by_status"]["NO_DATA"] == 1
    text = (b / "guarantor.yaml").read_text()
    (b / "guarantor.yaml").write_text(text[: text.index("    guarantee:")] + text[text.index("  - id: plain") :])
    again = {t["key"]: t for t in _json(cli, "org", str(a.parent))["teams"]}
    assert sum(again["ward-b"]["outcomes_by_status"].values()) == 0, "an outcome no longer guaranteed has no status"
    assert again["ward-b"]["guaranteed"] == 0 and again["ward-a"]["outcomes_by_status"]["MET"] == 1


def test_a_sync_lands_in_its_own_workspace(env: Settings, teams) -> None:  # type: ignore[no-untyped-def]
    from guarantor.work import repository
    from guarantor.work.sync.driver import sync
    from guarantor.work.sync.github import GitHub

    a, b = teams
    fake = FakeGitHub()
    db_a, db_b = workspace_db(env.resolved_database_url, a), workspace_db(env.resolved_database_url, b)
    try:
        with peer(fake.handler()) as port:
            result = sync(db_a, GitHub(f"http://127.0.0.1:{port}", "t"), "acme/shop", None, utcnow, 5.0, 60.0)
        assert result.inserted == 5
        with db_a.transaction() as s:
            assert repository.count(s) == 5
        with db_b.transaction() as s:
            assert repository.count(s) == 0 and repository.sync_cursor(s, "github", "acme/shop") is None
    finally:
        db_a.close()
        db_b.close()


def test_no_query_reaches_workspace_data_without_a_workspace(env: Settings, teams) -> None:  # type: ignore[no-untyped-def]
    a, b = teams
    db, db_b = workspace_db(env.resolved_database_url, a), workspace_db(env.resolved_database_url, b)

    def item(external_id: str, workspace_id: int | None = None) -> WorkItem:
        return WorkItem(**({"workspace_id": workspace_id} if workspace_id else {}), source="x", kind="task",
                        external_id=external_id, title="t", body="", state="open", closed=False, labels="[]",
                        components="[]", links="[]", content_hash="h", imported_at=utcnow())  # fmt: skip

    try:
        with db.transaction() as s:
            s.add(item("1"))
            s.flush()
            a_id = scope.current(s)
        unscoped = Database(env.resolved_database_url)
        with unscoped.transaction() as s, pytest.raises(scope.Unscoped):
            s.scalars(select(WorkItem)).all()
        unscoped.close()
        with db_b.transaction() as s:
            assert s.scalars(select(WorkItem)).all() == [], "B's session sees none of A's rows"
            assert s.get(WorkItem, 1) is None, "not even by id"
        with Session(db.engine) as s:
            scope.enter(s, db_b.workspace_id or 0)
            s.add(item("2", a_id))
            with pytest.raises(scope.Unscoped):
                s.flush()
    finally:
        db.close()
        db_b.close()


def test_a_key_claimed_by_two_files_is_refused_and_a_moved_file_keeps_its_history(cli, teams, tmp_path) -> None:  # type: ignore[no-untyped-def]
    a, _ = teams
    assert cli("record", "happy", "4.5", "-w", str(a)).code == 0
    twin = tmp_path / "twin"
    shutil.copytree(a, twin)
    r = cli("history", "happy", "-w", str(twin))
    assert r.code == 15 and "Two workspace files claim the key 'ward-a'" in r.err and "key:" in r.err
    moved = tmp_path / "moved"
    a.rename(moved)
    assert [m["value"] for m in _json(cli, "history", "happy", "-w", str(moved))["score"]] == ["4.5"]
    assert cli("history", "happy", "-w", str(twin)).code == 15, "the moved file still claims it"


def _at_0008(url: str, path: Path) -> None:
    """A database as today's release leaves it: schema 0008, one workspace's history, one user."""
    config = alembic_config(url)
    command.upgrade(config, "0008")
    engine = create_engine(url)
    tables = MetaData()
    tables.reflect(engine)
    t = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
    with engine.begin() as conn:
        conn.execute(
            insert(tables.tables["users"]),
            [{"username": "ana", "password_hash": "x", "role": "editor", "disabled": False, "created_at": t}],
        )
        conn.execute(
            insert(tables.tables["workspace_revisions"]),
            [
                {
                    "path": str(path),
                    "created_at": t,
                    "origin": "file",
                    "author": None,
                    "sha256": "s",
                    "text": "name: Ward A\noutcomes:\n  - {id: happy, title: T, for_whom: P}\n",
                }
            ],
        )
        conn.execute(
            insert(tables.tables["analyses"]),
            [
                {
                    "created_at": t,
                    "workspace_name": "Ward A",
                    "workspace_path": str(path),
                    "workspace_hash": "h",
                    "model_version": "m",
                    "hours_week": 40.0,
                    "hours_freed": 3.5,
                    "result": {},
                }
            ],
        )
        conn.execute(
            insert(tables.tables["analysis_people"]),
            [{"analysis_id": 1, "person_id": "ana", "role": "nurse", "hours_week": 40.0, "hours_freed": 3.5}],
        )
        conn.execute(
            insert(tables.tables["api_tokens"]),
            [{"user_id": 1, "name": "ci", "token_hash": "h" * 64, "created_at": t}],
        )
        conn.execute(
            insert(tables.tables["measurements"]),
            [
                {
                    "outcome_id": "happy",
                    "indicator_id": "score",
                    "spec_hash": "abc",
                    "scheduled_at": t,
                    "measured_at": t,
                    "value": "4.1",
                    "value_at": t,
                    "unit": "",
                    "status": "MET",
                    "reason": "4.1 meets >= 4",
                    "target": ">= 4",
                    "source": "manual",
                    "trigger": "checkin",
                    "duration_ms": 0.0,
                    "tool_version": "0",
                    "author": "ana",
                }
            ],
        )
        conn.execute(insert(tables.tables["work_items"]), [
            {"source": "jira", "external_id": "PAY-1", "kind": "Story", "title": "Old work", "body": "",
             "state": "Done", "closed": True, "labels": "[]", "components": "[]", "links": "[]", "content_hash": "h",
             "imported_at": t}])  # fmt: skip
    engine.dispose()


def test_a_database_of_todays_release_upgrades_with_its_history_under_its_workspace(cli, env, teams) -> None:  # type: ignore[no-untyped-def]
    a, b = teams
    _at_0008(env.resolved_database_url, (a / "guarantor.yaml").resolve())
    assert [m["value"] for m in _json(cli, "history", "happy", "-w", str(a))["score"]] == ["4.1"]
    assert [x["people"] for x in _json(cli, "analyses", str(a))] == [{"ana": 3.5}], "rebuilt tables keep children"
    engine = create_engine(env.resolved_database_url)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT name FROM api_tokens").scalars().all() == ["ci"]
    engine.dispose()
    assert _json(cli, "balance", str(a))["items"] == 1
    assert _json(cli, "balance", str(a))["by_category"] == {"new work": {"count": 1, "points": 0.0, "days": 0.0}}, (
        "the Story of before 0014 has its kind of work"
    )
    assert _json(cli, "balance", str(b))["items"] == 0 and _json(cli, "analyses", str(b)) == []
    scoped = workspace_db(env.resolved_database_url, a)
    with scoped.transaction() as s:
        assert [r.text.splitlines()[0] for r in workspaces.history(s)] == ["name: Ward A"]
        assert accounts.repository.memberships(s, 1) == {scope.current(s): "editor"}, "ana keeps her role there"
    scoped.close()


def _users(url: str, a: Path, b: Path) -> dict[str, str]:
    """ana: viewer of A only; bob: editor of A, viewer of B; tokens: each, and bob's limited to A."""
    db_a, db_b = workspace_db(url, a), workspace_db(url, b)
    with db_a.transaction() as s:
        a_id = scope.current(s)
    with db_b.transaction() as s:
        b_id = scope.current(s)
    db_b.close()
    with db_a.transaction() as s:
        accounts.add_user(s, "ana", PASSWORD, utcnow(), {a_id: "viewer"})
        accounts.add_user(s, "bob", PASSWORD, utcnow(), {a_id: "editor", b_id: "viewer"})
        tokens = {
            "ana": accounts.create_token(s, "ana", "t", utcnow())[0],
            "bob": accounts.create_token(s, "bob", "t", utcnow())[0],
            "bob-a": accounts.create_token(s, "bob", "t", utcnow(), a_id)[0],
        }
    db_a.close()
    return tokens


def test_a_viewer_of_one_workspace_gets_404_for_everything_of_the_other(cli, env, teams) -> None:  # type: ignore[no-untyped-def]
    a, b = teams
    assert cli("record", "happy", "3", "-w", str(b)).code == 0
    assert cli("analyze", str(b)).code == 0
    assert cli("import", "jira", str(JIRA), "--no-exposure", "-w", str(a)).code == 0
    assert cli("record", "happy", "4.5", "-w", str(a)).code == 0
    tokens = _users(env.resolved_database_url, a, b)
    settings = env.model_copy(update={"web_cache_s": 0.0})
    app = create_app(settings, [a, b])
    app.state.server.close()
    paths = app.openapi()["paths"]
    answers = {path: paths[path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
               for path in ("/api/v1/org", "/api/v1/workspaces", "/api/v1/w/{workspace}/me")}  # fmt: skip
    assert answers["/api/v1/org"]["$ref"].endswith("/Org"), "the OpenAPI document types the answer"
    assert answers["/api/v1/workspaces"]["items"]["$ref"].endswith("/WorkspaceEntry")
    assert answers["/api/v1/w/{workspace}/me"]["$ref"].endswith("/Me")
    with serving(settings, [a / "guarantor.yaml", b / "guarantor.yaml"]) as url:

        def client(who: str) -> httpx.Client:
            return httpx.Client(base_url=url, headers={"authorization": f"Bearer {tokens[who]}"}, timeout=30)

        with client("bob") as bob:
            analysis = bob.get("/api/v1/w/ward-b/analyses").json()[0]["id"]
            assert bob.get("/api/v1/w/ward-b/outcomes/happy").json()["state"]["status"] == "BROKEN", (
                "B's 3, not A's 4.5"
            )
            assert bob.get("/api/v1/w/ward-a/outcomes/happy").json()["state"]["status"] == "MET"
            assert bob.get("/api/v1/w/ward-b/work").json()["balance"] is None, "A's import is not B's work"
            assert bob.get("/api/v1/w/ward-a/work").json()["balance"]["items"] > 0
            assert bob.get("/api/v1/w/ward-b/overview").json()["orphan_work"] is None
            assert bob.get("/api/v1/w/ward-a/analyses").json() == [], "B's analysis is not A's"
            page = bob.get("/w/ward-b/work").text
            assert "SHOP-" not in page and "no work" in page.lower()
        values = {"workspace": "ward-b", "outcome_id": "happy", "person_id": "ana", "analysis_id": str(analysis),
                  "task_id": "task-1", "code": "29-1141.00", "indicator_id": "score"}  # fmt: skip
        checked = 0
        with client("ana") as ana, client("bob-a") as limited:
            assert [w["key"] for w in ana.get("/api/v1/workspaces").json()] == ["ward-a"]
            assert [t["key"] for t in ana.get("/api/v1/org").json()["teams"]] == ["ward-a"]
            assert [w["key"] for w in limited.get("/api/v1/workspaces").json()] == ["ward-a"]
            for route in iter_route_contexts(app.routes):
                path = route.path or ""
                if "{workspace}" not in path:
                    continue
                target = re.sub(r"\{(\w+)\}", lambda m: values[m[1]], path)
                for method in route.methods or ():
                    for caller in (ana, limited):
                        response = caller.request(method, target, json={})
                        assert response.status_code == 404, (method, target, response.status_code)
                        checked += 1
            assert ana.get("/api/v1/w/ward-a/outcomes/happy").status_code == 200
            assert ana.patch("/api/v1/w/ward-a/outcomes/happy", json={"title": "x y"}).status_code == 403
            assert limited.get("/api/v1/w/ward-a/overview").status_code == 200
        assert checked > 50
        with client("bob") as bob:
            assert sorted(w["key"] for w in bob.get("/api/v1/workspaces").json()) == ["ward-a", "ward-b"]
            assert bob.patch("/api/v1/w/ward-b/outcomes/happy", json={"title": "x y"}).status_code == 403
            org = bob.get("/api/v1/org").json()
            assert [t["key"] for t in org["teams"]] == ["ward-a", "ward-b"]
            assert org["teams"][1]["outcomes_by_status"]["BROKEN"] == 1 and org["total"]["hours_freed"] > 0
            assert bob.get("/api/v1/overview").status_code == 404, "two served: an address without one means none"


def test_the_migrations_build_the_schema_the_models_describe(env: Settings) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from guarantor.db.models import metadata

    db = Database(env.resolved_database_url)
    try:
        with db.engine.connect() as conn:
            differences = compare_metadata(MigrationContext.configure(conn), metadata)
    finally:
        db.close()
    assert differences == []


def test_the_migration_files_name_alembics_revisions_in_order() -> None:
    """``session.head`` reads the newest revision from the file names, so that a database already
    at it opens without Alembic: each file must be named by its revision, each revising the one
    before."""
    from alembic.script import ScriptDirectory

    from guarantor.db.session import head

    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    revisions = list(reversed(list(script.walk_revisions())))
    assert script.get_heads() == [head()] == [revisions[-1].revision]
    for before, revision in zip([None, *revisions], revisions, strict=False):
        assert Path(revision.path).name.startswith(f"{revision.revision}_"), revision.path
        assert revision.down_revision == (before.revision if before else None), revision.path


def test_a_database_at_the_newest_schema_opens_without_alembic(env: Settings, tmp_path: Path) -> None:
    import subprocess
    import sys

    Database(env.resolved_database_url).close()  # migrated to the newest
    probe = (
        f"import sys\nfrom guarantor.db.session import Database\nDatabase({env.resolved_database_url!r}).close()\n"
        "print(sorted(m for m in sys.modules if m.startswith('alembic')))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=tmp_path, check=True)
    assert done.stdout.strip() == "[]"


def test_a_folder_of_teams_serves_the_valid_ones_and_shows_the_others_with_their_errors(env: Settings, teams) -> None:  # type: ignore[no-untyped-def]
    """One team's broken file, or a copy made with `cp -r` (its key claimed twice), no longer stops
    the organisation's server: the rest are served, and an admin sees what was refused and why."""
    a, b = teams
    text = (
        (b / "guarantor.yaml")
        .read_text()
        .replace(
            "target: '>= 4'}\n",
            "target: '>= 4'}\n        - {id: rows, source: files, query: SELECT 1, target: '>= 1'}\n",
        )
    )
    (b / "guarantor.yaml").write_text(text + "sources:\n  files: {type: file}\n")  # DuckDB's, for its query
    broken = _team(a.parent / "ward-c", "Ward C")
    (broken / "guarantor.yaml").write_text(
        (broken / "guarantor.yaml").read_text().replace("serves: [happy]", "serves: [zzqx-blorf]")
    )
    shutil.copytree(a, a.parent / "ward-d")  # a copy: the key ward-a, claimed by ward-a, which comes first
    command = [sys.executable, "-m", "guarantor", "serve", str(a.parent)]
    with serve_process(command, dict(os.environ), a.parent) as (url, lines):
        said = "".join(lines)
        assert "Not served: " + str(broken / "guarantor.yaml") in said and "zzqx-blorf" in said, said
        assert "Not served: " + str(a.parent / "ward-d" / "guarantor.yaml") in said and "'ward-a'" in said, said
        assert "Serving 2 workspaces" in said
        password = re.search(r"password (\S+) \(shown once\)", said)
        assert password, said
        with httpx.Client(base_url=url, timeout=30, follow_redirects=True) as client:
            assert log_in(client, "admin", password[1]).status_code == 200
            home = client.get("/").text
            assert "Ward A" in home and "Ward B" in home and "2 workspaces not served" in home
            assert "zzqx-blorf" in home and "guarantor init NEW-FOLDER --from ORIGINAL" in home, "the way to a copy"
            assert client.get("/w/ward-b/outcomes").status_code == 200
    assert "nanobind" not in "".join(lines), "a clean stop says nothing of DuckDB's bindings"
