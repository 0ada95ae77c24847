"""A corpus of hostile and malformed inputs for every reader: the workspace YAML, the files and
standard input of `classify`, and each importer. Every case must end in the documented input exit
code (3) with the file and line named, print nothing on stdout, and store nothing; none may reach
exit 1, the code for a bug."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from guarantor.settings import Settings
from guarantor.work import repository as work_repo
from tests.scoped import workspace_db

INPUT = 3

_BOMB = b"".join(
    f"{k}: &{k} [{', '.join([f'*{p}'] * 9)}]\n".encode() for p, k in zip("abcdefgh", "bcdefghi", strict=True)
)

YAML = {
    "alias bomb": (b'name: x\na: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + _BOMB, 6),
    "recursive alias": (b"name: x\nloop: &a [*a]\n", 2),
    "alias before its anchor": (b"name: x\nk: *nowhere\n", 2),
    "5,000-deep nesting": (b"name: x\nk: " + b"[" * 5000 + b"]" * 5000 + b"\n", 2),
    "NUL byte": (b"name: x\x00y\n", 1),
    "absurd duration": (b"name: x\nsources:\n  f: {type: file, timeout: 999999999999999d}\n", 3),
    "5,000-digit number": (
        b"name: x\nsystems:\n  - {id: s, name: n, does: d, for_whom: w, users: " + b"9" * 5000 + b"}\n",
        3,
    ),
    "lone surrogate": (b'name: "\\ud800"\n', 1),
    "Latin-1 file": (b"name: Caf\xe9 team\n", 1),
    "year-9999 date": (b"name: 9999-12-31\n", 1),
    "tab indentation": (b"name: x\npeople:\n\t- id: a\n", 3),
    "two documents": (b"name: x\n---\nname: y\n", 2),
    "python tag": (b"name: !!python/object/apply:os.system ['id']\n", 1),
    "mapping as a key": (b"name: x\n? {a: 1}\n: b\n", 2),
    "infinite hours": (b"name: x\npeople:\n  - {id: a, name: A, role: R, hours_week: .inf}\n", 3),
    "NaN target": (
        b"name: x\nsources: {f: {type: file}}\noutcomes:\n  - id: o\n    title: T\n    for_whom: W\n"
        b"    guarantee:\n      indicators:\n        - {id: i, source: f, query: SELECT 1, target: '>= NaN'}\n",
        9,
    ),
    "a list at the top": (b"- a\n- b\n", 1),
    "an empty file": (b"", 1),
    "an unclosed bracket": (b"name: x\npeople: [\n", 3),
    "text far too long": (b"name: " + b"x" * 3000 + b"\n", 1),
}


@pytest.mark.parametrize("case", list(YAML))
def test_hostile_workspace_files(cli, tmp_path: Path, case: str) -> None:  # type: ignore[no-untyped-def]
    content, line = YAML[case]
    path = tmp_path / "guarantor.yaml"
    path.write_bytes(content)
    for command in ("validate", "analyze", "check"):
        r = cli(command, str(path))
        assert r.code == INPUT, (command, r.code, r.err)
        assert f"{path}:{line}" in r.err, (command, r.err)
        assert "internal error" not in r.err and "Traceback" not in r.err
    assert not (tmp_path / "report.html").exists()


DEEP = "(" * 5000 + "1" + ")" * 5000


@pytest.mark.parametrize(
    ("source", "query"),
    [
        ('{type: sql, url: "sqlite:///shop.db"}', f"SELECT {DEEP}"),
        ("{type: file}", f"SELECT {DEEP}"),
        ('{type: http, base_url: "http://127.0.0.1:9"}', "/x"),
    ],
)
def test_queries_nested_past_every_parser(cli, tmp_path: Path, source: str, query: str) -> None:  # type: ignore[no-untyped-def]
    """SQL, JSONPath and JMESPath nested 5,000 deep: refused at validation, or an ERROR when the
    source's own parser gives up; never a crash."""
    import sqlite3

    sqlite3.connect(tmp_path / "shop.db").close()
    path = tmp_path / "guarantor.yaml"
    extra = f", jmespath: '{'[' * 3000}a{']' * 3000}'" if "http" in source else ""
    path.write_text(
        f"name: x\nsources:\n  s: {source}\noutcomes:\n  - id: o\n    title: T\n    for_whom: W\n"
        f"    guarantee:\n      indicators:\n        - {{id: i, source: s, query: '{query}', target: '>= 0'{extra}}}\n"
    )
    r = cli("check", str(path), "--json")
    assert r.code in (INPUT, 13), (r.code, r.err)
    assert "internal error" not in r.err


def test_the_alias_bomb_is_refused_before_it_expands(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "guarantor.yaml"
    path.write_bytes(YAML["alias bomb"][0])
    assert len(path.read_bytes()) < 700
    r = cli("validate", str(path))
    assert r.code == INPUT and "aliases expand to more than" in r.err


CLASSIFY = {
    "unterminated quote.csv": (b'id,text\n1,Review code\n2,"Write docs\n3,Test things\n', 3),
    "text after a closing quote.csv": (b'id,text\n1,"Review" code\n', 2),
    "NUL byte.csv": (b"id,text\n1,Review\x00 code\n", 2),
    "Latin-1.csv": (b"id,text\n1,Review code\n2,R\xe9sum\xe9s\n", 3),
    "extra fields.csv": (b"id,text\n1,a,b\n", 2),
    "unterminated quote.tsv": (b'id\ttext\n1\t"Review code\n', 2),
    "deep JSON.jsonl": (b'{"text": "ok"}\n{"text": ' + b"[" * 100_000 + b"]" * 100_000 + b"}\n", 2),
    "lone surrogate.jsonl": (b'{"text": "\\ud800 task"}\n', 1),
    "huge number.jsonl": (b'{"text": "a task", "id": 1e999}\n', 1),
    "NaN.jsonl": (b'{"text": "a task", "id": NaN}\n', 1),
    "boolean id.jsonl": (b'{"text": "a task", "id": true}\n', 1),
    "number as text.jsonl": (b'{"text": 5}\n', 1),
    "an array.jsonl": (b"[1, 2]\n", 1),
    "an endless line.txt": (b"Review code\n" + b"a" * (2 << 20) + b"\n", 2),
    "Latin-1 line.txt": (b"Review code\nWrite docs\n\xff\xfe\n", 3),
}


@pytest.mark.parametrize("case", list(CLASSIFY))
def test_hostile_files_to_classify(cli, tmp_path: Path, case: str) -> None:  # type: ignore[no-untyped-def]
    content, line = CLASSIFY[case]
    path = tmp_path / case.replace(" ", "-")
    path.write_bytes(content)
    out = tmp_path / "out.csv"
    for args in ((str(path),), (str(path), "-o", str(out))):
        r = cli("classify", *args)
        assert r.code == INPUT, (r.code, r.err)
        assert f"{path}:{line}" in r.err, r.err
        assert r.out == "", "nothing on stdout before a failure"
        assert not out.exists(), "no partial output file"


@pytest.mark.parametrize(
    ("content", "line"),
    [(b"Review code\nR\xe9sum\xe9s\n", 2), (b"ok\n" + b"\x00\n", 2), (b"a" * (2 << 20), 1)],
)
def test_hostile_standard_input(cli, monkeypatch: pytest.MonkeyPatch, content: bytes, line: int) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(content)))
    r = cli("classify", "-")
    assert r.code == INPUT and f"<stdin>:{line}" in r.err and r.out == "", r.err


def test_a_byte_order_mark_is_read_the_same_by_every_reader(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    tasks = tmp_path / "tasks.csv"
    tasks.write_bytes(b"\xef\xbb\xbfid,text\nT-1,Review code\n")
    r = cli("classify", str(tasks))
    assert r.code == 0 and r.out.splitlines()[1].startswith("T-1,"), r.err
    export = tmp_path / "items.csv"
    export.write_bytes(b"\xef\xbb\xbfid,title\nA-1,Review code\n")
    r = cli("import", "csv", str(export), "--no-exposure")
    assert r.code == 0 and "1 new" in r.out, r.err


JIRA_HEADER = b"Issue key,Summary,Status,Created,Custom field (Story Points)\n"
JIRA_GOOD = b"SHOP-1,Fix checkout,Done,2026-01-02 10:00,3\nSHOP-2,Add refunds,To Do,2026-01-03 10:00,5\n"
GITHUB_GOOD = b'[{"number": 1, "title": "Fix checkout", "state": "open", "created_at": "2026-01-02T10:00:00Z"},\n'

IMPORTS = {
    "jira: unterminated quote": ("jira", JIRA_HEADER + JIRA_GOOD + b'SHOP-3,"Broken,Done,2026-01-04 10:00,1\n', 4),
    "jira: infinite story points": ("jira", JIRA_HEADER + JIRA_GOOD + b"SHOP-3,Big,Done,2026-01-04 10:00,inf\n", 4),
    "jira: -1e308 story points": ("jira", JIRA_HEADER + JIRA_GOOD + b"SHOP-3,Neg,Done,2026-01-04 10:00,-1e308\n", 4),
    "jira: year 9999": ("jira", JIRA_HEADER + JIRA_GOOD + b"SHOP-3,Late,Done,9999-12-31 10:00,1\n", 4),
    "jira: Latin-1": ("jira", JIRA_HEADER + JIRA_GOOD + b"SHOP-3,R\xe9sum\xe9,Done,2026-01-04 10:00,1\n", 4),
    "jira: NUL byte": ("jira", JIRA_HEADER + JIRA_GOOD + b"SHOP-3,A\x00B,Done,2026-01-04 10:00,1\n", 4),
    "linear: not a date": ("linear", b"ID,Title,Created\nENG-1,Fix,2026-01-02\nENG-2,Add,yesterday-ish\n", 3),
    "linear: NaN estimate": ("linear", b"ID,Title,Estimate\nENG-1,Fix,1\nENG-2,Add,nan\n", 3),
    "csv: estimate 1e400": ("csv", b"id,title,estimate\nA-1,Fix,1\nA-2,Add,1e400\n", 3),
    "github: boolean number": ("github", GITHUB_GOOD + b'{"number": true, "title": "Bool"}]\n', 1),
    "github: body is a number": ("github", GITHUB_GOOD + b'{"number": 2, "title": "B", "body": 5}]\n', 1),
    "github: label without a name": (
        "github",
        GITHUB_GOOD + b'{"number": 2, "title": "L", "labels": [{"color": "f00"}]}]\n',
        1,
    ),
    "github: labels not a list": ("github", GITHUB_GOOD + b'{"number": 2, "title": "L", "labels": "bug"}]\n', 1),
    "github: lone surrogate": ("github", GITHUB_GOOD + b'{"number": 2, "title": "\\udc00"}]\n', 1),
    "github: huge number": ("github", GITHUB_GOOD + b'{"number": 2, "title": "N", "x": 1e999}]\n', 1),
    "github: fractional number": ("github", GITHUB_GOOD + b'{"number": 2.5, "title": "F"}]\n', 1),
    "github: year 9999": (
        "github",
        GITHUB_GOOD + b'{"number": 2, "title": "Y", "created_at": "9999-12-31T00:00:00Z"}]\n',
        1,
    ),
    "github: deep JSON": (
        "github",
        GITHUB_GOOD + b'{"number": 2, "title": "D", "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}]\n",
        1,
    ),
    "github: not JSON": ("github", GITHUB_GOOD + b"{number: 2}]\n", 2),
}


@pytest.mark.parametrize("case", list(IMPORTS))
def test_hostile_exports_import_nothing(cli, env: Settings, tmp_path: Path, case: str) -> None:  # type: ignore[no-untyped-def]
    fmt, content, line = IMPORTS[case]
    path = tmp_path / ("export.json" if fmt == "github" else "export.csv")
    path.write_bytes(content)
    r = cli("import", fmt, str(path), "--no-exposure")
    assert r.code == INPUT, (r.code, r.err)
    assert f"{path}:{line}" in r.err, r.err
    assert "internal error" not in r.err
    db = workspace_db(env.resolved_database_url, Path.cwd())  # the workspace the import went to
    try:
        with db.transaction() as session:
            assert work_repo.count(session) == 0, "an import is whole or nothing"
    finally:
        db.close()


def test_an_export_on_standard_input_is_read_as_strictly(cli, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(JIRA_HEADER + b"SHOP-9,Caf\xe9,Done,,\n")))
    r = cli("import", "jira", "-", "--no-exposure")
    assert r.code == INPUT and "<stdin>:2" in r.err, r.err


def test_hostile_invocations_get_their_documented_exit_code(env: Settings, tmp_path: Path) -> None:
    """Over 300 of them (`tests/hostile_cli.py`): none exit 1, each exits as the README says."""
    from tests import hostile_cli

    hostile_cli.prepare(tmp_path / "ws")
    (tmp_path / "ws" / "empty").mkdir()
    results = [(case, hostile_cli.run(case)) for case in hostile_cli.cases(tmp_path / "ws")]
    wrong = [(case.name, code, printed[-300:]) for case, (code, printed) in results if code not in case.codes]
    assert len(results) >= 300
    assert not wrong, wrong
