"""Fixtures on real things: the shared O*NET files, a real SQLite file or PostgreSQL database.

Set GUARANTOR_TEST_DATABASE_URL to a PostgreSQL server URL to run every database test there; each
test gets a database of its own, created and dropped around it.
"""

from __future__ import annotations

import csv
import io
import json
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from guarantor.cli import run
from guarantor.settings import Settings, get_settings
from guarantor.tasks import store
from guarantor.tasks.features import normalise
from guarantor.tasks.model import EVIDENCE_FLOOR, SAME_TASK, ExposureModel
from tests.http_peer import JsonHandler, peer
from tests.web_server import Server, free_port, prepare, serving

ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = Path(os.environ.get("GUARANTOR_TEST_DATA_DIR", ROOT.parent / "shared" / "data" / "onet"))
EXAMPLES = ROOT / "examples"


@pytest.fixture(scope="session", autouse=True)
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The session's own model cache and settings file, so no test reads or writes the user's (every
    Settings and every subprocess sees them through the environment)."""
    with pytest.MonkeyPatch.context() as patch:
        cache = tmp_path_factory.mktemp("cache")
        patch.setenv("GUARANTOR_CACHE_DIR", str(cache))
        patch.setenv("GUARANTOR_CONFIG", str(cache / "settings.env"))
        # A server started without --port takes one the OS found free, never a fixed 8000 that
        # another program may hold.
        patch.setenv("GUARANTOR_WEB_PORT", str(free_port()))
        yield cache


@pytest.fixture(scope="session")
def model_home(tmp_path_factory: pytest.TempPathFactory, model_cache: Path) -> Path:
    """A GUARANTOR_HOME; the model is built once for the whole session, in the session's cache."""
    home = tmp_path_factory.mktemp("home")
    store.load_or_build(Settings(data_dir=DATA_DIR, home=home))
    return home


@pytest.fixture(scope="session")
def model(model_home: Path) -> ExposureModel:
    return store.load_or_build(Settings(data_dir=DATA_DIR, home=model_home))


@pytest.fixture
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Guarantor's own database, in a folder of its own: file sources refuse a folder holding it, and
    tests put their workspaces in tmp_path."""
    server = os.environ.get("GUARANTOR_TEST_DATABASE_URL")
    if not server:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'guarantor.db'}"
        return
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(server)
    name = f"guarantor_test_{uuid.uuid4().hex[:12]}"
    admin = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def pg_source(database_url: str) -> Iterator[tuple[str, str]]:
    """A PostgreSQL database for sources beside Guarantor's (whose own is refused), and a role that
    can only read its tables, as the README tells admins to make: (the admin's URL, the reader's).
    Tables the admin creates there are readable by the reader."""
    if not database_url.startswith("postgresql"):
        pytest.skip("set GUARANTOR_TEST_DATABASE_URL to run the PostgreSQL source")
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    name = f"{url.database}_src"
    admin = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
        conn.execute(
            "DO $$ BEGIN CREATE ROLE guarantor_reader LOGIN NOSUPERUSER; "
            "EXCEPTION WHEN duplicate_object THEN NULL; END $$"
        )
    source_admin = url.set(database=name).render_as_string(hide_password=False)
    with psycopg.connect(source_admin.replace("postgresql+psycopg", "postgresql"), autocommit=True) as conn:
        conn.execute("ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO guarantor_reader")
    try:
        yield (
            source_admin,
            url.set(database=name, username="guarantor_reader", password=None).render_as_string(hide_password=False),
        )
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, model_home: Path, database_url: str) -> Iterator[Settings]:
    """The environment a person would set: data dir, home (with the built model), database."""
    monkeypatch.setenv("GUARANTOR_DATA_DIR", str(DATA_DIR))
    monkeypatch.setenv("GUARANTOR_HOME", str(model_home))
    monkeypatch.setenv("GUARANTOR_DATABASE_URL", database_url)
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def cli(env: Settings, capsys: pytest.CaptureFixture[str], tmp_path_factory, monkeypatch):  # type: ignore[no-untyped-def]
    """Run `guarantor ARGS...` in-process; returns its exit code and what it printed. It runs in a
    folder of its own holding a workspace ("Here"), the one commands that name none work in."""
    here = tmp_path_factory.mktemp("here")
    (here / "guarantor.yaml").write_text("name: Here\n")
    monkeypatch.chdir(here)

    def invoke(*args: str) -> Result:
        capsys.readouterr()
        code = run(list(args))
        captured = capsys.readouterr()
        return Result(int(code), captured.out, captured.err)

    return invoke


@pytest.fixture
def server(env: Settings, cli, tmp_path: Path) -> Iterator[Server]:  # type: ignore[no-untyped-def]
    settings = env.model_copy(update={"web_cache_s": 0.0})
    workspace = prepare(tmp_path / "shop", settings, cli)
    tokens = dict(line.split("=", 1) for line in (workspace.parent / ".tokens").read_text().splitlines())
    with serving(settings, workspace) as url:
        yield Server(url, workspace, tokens, settings)


@pytest.fixture
def hook() -> Iterator[tuple[str, list[dict[str, object]]]]:
    received: list[dict[str, object]] = []

    class Handler(JsonHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append({"path": self.path, "body": json.loads(body)})
            self.send_response(204)
            self.end_headers()

    with peer(Handler) as port:
        yield f"http://127.0.0.1:{port}", received


def check_shown_labels(tasks: list[dict[str, object]]) -> None:
    """The invariants a person relies on: hours freed follow the label shown (none on E0), a human
    label is the label of an evidence item with the same text, evidence is close and never twice."""
    share = {"E0": 0.0, "E1": 0.5, "E2": 0.25}
    for t in tasks:
        assert t["hours_freed"] == pytest.approx(t["hours"] * share[t["exposure"]], abs=0.01), t
        assert t["predicted"] in share
        texts = [normalise(e["text"]) for e in t["evidence"]]
        assert len(texts) == len(set(texts)), t["evidence"]
        assert all(e["similarity"] >= EVIDENCE_FLOOR for e in t["evidence"])
        if t["label_source"] == "human":
            same = [e for e in t["evidence"] if e["similarity"] >= SAME_TASK]
            assert same and same[0]["label"] == t["exposure"], t
        else:
            assert t["exposure"] == t["predicted"]
            assert not any(normalise(e["text"]) == normalise(t["text"]) for e in t["evidence"])


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    """An export as a spreadsheet or tracker writes it: a header, then rows, quoted where needed."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path
