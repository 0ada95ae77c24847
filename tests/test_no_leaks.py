"""No output channel carries a value from someone's rows or a secret: markers planted in table
rows, file contents, a response body, header values (one with a line break), URL credentials and
environment variables, then every channel a person or a machine reads is searched for them: the
command's output and errors, the status reasons in the API and on the pages, the alerts sent, and
every log line."""

from __future__ import annotations

import json
import logging
import sqlite3
from pathlib import Path

import pytest
import yaml

from guarantor.settings import Settings
from tests.http_peer import JsonHandler, peer
from tests.web_server import Server, api, browser, prepare, serving

MARKERS = {
    "row": "ROWMARK-3a91",
    "file": "FILEMARK-77c2",
    "body": "BODYMARK-5e10",
    "header": "HEADERMARK-b4d8",
    "newline": "NEWLINEMARK-90af",
    "url": "URLMARK-1c3e",
    "env": "ENVMARK-d2f7",
}


class _Leaky(JsonHandler):
    """/text: 200 with a body that is not JSON; /number: JSON whose value is text; else 500."""

    def do_GET(self) -> None:
        if self.path.startswith("/text"):
            data = f"oops {MARKERS['body']}".encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        elif self.path.startswith("/number"):
            self.send_json(200, {"x": MARKERS["body"], "at": MARKERS["body"]})
        else:
            self.send_json(500, {"error": MARKERS["body"]})


def _leaky_workspace(workspace: Path, port: int, hook: str) -> None:
    folder = workspace.parent
    with sqlite3.connect(folder / "rows.db") as conn:
        conn.execute("CREATE TABLE t (v TEXT, at TEXT)")
        conn.execute("INSERT INTO t VALUES (?, ?)", (f"ROW:{MARKERS['row']}", MARKERS["row"]))
    conn.close()
    (folder / "leaky.csv").write_text(f"v\n{MARKERS['file']}\n")
    base = f"http://127.0.0.1:{port}"
    data = yaml.safe_load(workspace.read_text())
    data["sources"].update(
        {
            "rows": {"type": "sql", "url": "sqlite:///rows.db"},
            "web": {"type": "http", "base_url": base, "headers": {"Authorization": {"env": "LEAK_TOKEN"}}},
            "broken": {"type": "http", "base_url": base, "headers": {"X-Key": {"env": "LEAK_NEWLINE"}}},
            "creds": {"type": "http", "base_url": f"http://probe:{MARKERS['url']}@127.0.0.1:{port}"},
            "remote": {"type": "sql", "url": {"env": "LEAK_DB_URL"}},
        }
    )
    queries = [
        ("rows", {"query": "SELECT v FROM t"}),
        ("rows", {"query": "SELECT 1, at FROM t"}),
        ("rows", {"query": "SELECT v, at FROM t"}),
        ("files", {"query": "SELECT CAST(v AS INTEGER) FROM 'leaky.csv'"}),
        ("files", {"query": "SELECT v::DATE FROM 'leaky.csv'"}),
        ("web", {"query": "/text", "jsonpath": "$.x"}),
        ("web", {"query": "/number", "jsonpath": "$.x"}),
        ("web", {"query": "/number", "jsonpath": "$.x", "reduce": "max", "time_path": "$.at"}),
        ("web", {"query": "/fail", "jsonpath": "$.x"}),
        ("broken", {"query": "/number", "jsonpath": "$.x"}),
        ("creds", {"query": "/fail", "jsonpath": "$.x"}),
        ("remote", {"query": "SELECT 1"}),
    ]
    data["alerts"] = {"hook": {"type": "webhook", "url": f"{hook}/alerts"}}
    data["outcomes"].append(
        {
            "id": "leaky",
            "title": "Leaky",
            "for_whom": "nobody",
            "guarantee": {
                "alert": {"channels": ["hook"]},
                "indicators": [
                    {"id": f"leak-{n}", "source": source, "target": ">= 0", **spec}
                    for n, (source, spec) in enumerate(queries)
                ],
            },
        }
    )
    workspace.write_text(yaml.safe_dump(data, sort_keys=False))


def test_no_output_carries_a_row_value_or_a_secret(
    env: Settings,
    cli,  # type: ignore[no-untyped-def]
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    hook: tuple[str, list[dict[str, object]]],
) -> None:
    settings = env.model_copy(update={"web_cache_s": 0.0})
    workspace = prepare(tmp_path / "shop", settings, cli)
    tokens = dict(line.split("=", 1) for line in (workspace.parent / ".tokens").read_text().splitlines())
    monkeypatch.setenv("LEAK_TOKEN", f"Bearer {MARKERS['header']}")
    monkeypatch.setenv("LEAK_NEWLINE", f"Bearer {MARKERS['env']}\nX-Evil: {MARKERS['newline']}")
    monkeypatch.setenv("LEAK_DB_URL", f"postgresql+psycopg://probe:{MARKERS['env']}@127.0.0.1:9/none")
    caplog.set_level(logging.DEBUG)
    seen: list[str] = []
    with peer(_Leaky) as port:
        _leaky_workspace(workspace, port, hook[0])
        for args in (["--json"], []):
            r = cli("check", str(workspace.parent), "--all", "--outcome", "leaky", *args)
            assert r.code == 13, r.err
            seen += [r.out, r.err]
        latest = json.loads(seen[0])["outcomes"][0]["indicators"]
        reasons = [i["latest"]["reason"] for i in latest]
        assert all(i["latest"]["status"] == "ERROR" for i in latest), reasons
        with serving(settings, workspace) as url:
            server = Server(url, workspace, tokens, settings)
            with api(server, "viewer") as c:
                seen += [c.get(path).text for path in ("/api/v1/outcomes/leaky", "/api/v1/outcomes")]
            with api(server) as c:
                seen.append(c.post("/api/v1/checks", json={"outcome": "leaky"}).text)
            with browser(server, "viewer") as (client, _):
                seen += [client.get(path).text for path in ("/outcomes/leaky", "/", "/outcomes")]
    seen += [json.dumps(h) for h in hook[1]]
    seen += [record.getMessage() + (record.exc_text or "") for record in caplog.records]
    assert hook[1], "the error was alerted"
    everything = "\n".join(seen)
    leaked = {
        what: [t[max(0, t.index(m) - 200) : t.index(m) + 50] for t in seen if m in t]
        for what, m in MARKERS.items()
        if m in everything
    }
    assert not leaked, (leaked, reasons)
    assert any("text of" in r and "not a number" in r for r in reasons), reasons  # says what kind of value came back
