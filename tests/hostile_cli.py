"""Hostile invocations of the command line: settings, options, arguments, check-in values, user
names, YAML tags, workspace values and exports that are out of range, not finite, not numbers,
too large or malformed. Each has the exit codes the README documents for it; none may end in exit
1, the code for a bug. `tests/test_hostile_inputs.py` runs them all; `bench/hostile_inputs.py`
counts them.

The cases are built against a folder holding a small workspace with a manual indicator
(``prepare``); they run in-process, one after another, through ``run``.
"""

from __future__ import annotations

import io
import json
import os
import sys
from collections.abc import Sequence
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path

USAGE, INPUT, NOT_FOUND, AMBIGUOUS, DATABASE = 2, 3, 4, 5, 8


@dataclass(frozen=True)
class Case:
    name: str
    args: list[str]
    codes: frozenset[int]
    env: dict[str, str] = field(default_factory=dict)
    stdin: bytes = b""


WORKSPACE = """\
name: Hostile
sources:
  files: {type: file}
outcomes:
  - id: o
    title: An outcome
    for_whom: Someone
    guarantee:
      indicators:
        - {id: m, type: manual, target: '>= 0'}
        - {id: q, source: files, query: "SELECT 1", target: '>= 0'}
"""

NUMERIC_SETTINGS = [
    "WEB_SESSION_HOURS", "SYNC_MAX_WAIT_S", "DOWNLOAD_TIMEOUT_S", "CHECK_WORKERS", "CHECK_RETRIES", "WEB_THREADS",
    "WEB_CACHE_S", "WEB_MAX_BODY_BYTES", "LOGIN_FREE_FAILURES", "LOGIN_MAX_WAIT_S", "CLASSIFY_WORKERS",
    "MEASURE_TIMEOUT_MAX_S", "WEB_CHECKS_AT_ONCE", "EDIT_MAX_BYTES", "EDIT_MAX_INDICATORS", "EDIT_MIN_SCHEDULE_S",
]  # fmt: skip
NOT_NUMBERS = ["1e400", "inf", "-inf", "nan", "-1", "abc", "99999999999999999999999", "1,5", "true", "[]", "0x10", "½"]
BAD_HOURS = ["nan", "inf", "-inf", "-1", "0", "169", "1e400", "abc", "", "1,5"]
BAD_PORTS = ["70000", "65536", "-1", "0", "abc", "1e3", ""]
BAD_IDS = ["99999999999999999999999", "-1", "0", "abc", "1.5", ""]
BAD_VALUES = ["1,5", "1,50", "12,3456", "1.5.5", "nan", "inf", "-inf", "1e400", "1e15", "", " ", "abc", "0x10", "1 5"]
BAD_USERS = ["bob\n", "", " bob", "bob ", "a" * 65, "bob\t", "élise", "a/b", "../x", "<script>", "-bob"]
TAGS = [
    "!!binary aGVsbG8=", "!!set {a: null}", "!!omap [{a: 1}]", "!!pairs [{a: 1}]", "!!python/name:os.system ''",
    "!custom x", "!!timestamp 'not a time'", "!!int 'x'", "!!float 'x'", "!!str [a]",
]  # fmt: skip
WORKSPACE_VALUES = {
    "hours nan": "people:\n  - {id: p, name: P, role: R, hours_week: .nan}\n",
    "hours inf": "people:\n  - {id: p, name: P, role: R, hours_week: .inf}\n",
    "hours negative": "people:\n  - {id: p, name: P, role: R, hours_week: -1}\n",
    "hours 169": "people:\n  - {id: p, name: P, role: R, hours_week: 169}\n",
    "hours 1e400": "people:\n  - {id: p, name: P, role: R, hours_week: 1e400}\n",
    "every 0s": "_guarantee: {schedule: 0s}",
    "every negative": "_guarantee: {schedule: -1m}",
    "every eleven years": "_guarantee: {schedule: 4100d}",
    "target nan": "_indicator: {target: '>= nan'}",
    "target inf": "_indicator: {target: '>= inf'}",
    "between reversed": "_indicator: {target: 'between 5 and 1'}",
    "objective 100%": "_guarantee: {objective: 100%}",
    "objective 0%": "_guarantee: {objective: 0%}",
    "objective 150%": "_guarantee: {objective: 150%}",
    "window 0d": "_guarantee: {window: 0d}",
    "timeout 0s": "_indicator: {timeout: 0s}",
    "query over 16 KiB": "_indicator: {query: 'SELECT " + "1 + " * 4200 + "1'}",
    "id in capitals": "_indicator: {id: Big}",
    "id with a space": "_indicator: {id: 'a b'}",
    "precision 11": "_indicator: {precision: 11}",
    "precision negative": "_indicator: {precision: -1}",
    "unit too long": "_indicator: {unit: '" + "u" * 40 + "'}",
    "fresh_within ten years and a day": "_indicator: {fresh_within: 3661d}",
    "unknown key": "_indicator: {colour: red}",
}


def _workspace_with(change: str) -> str:
    """The workspace with one value changed: an indicator's or the guarantee's field, or lines added."""
    import yaml

    data = yaml.safe_load(WORKSPACE)
    if change.startswith(("_indicator:", "_guarantee:")):
        where, fields = change.split(":", 1)
        target = data["outcomes"][0]["guarantee"]
        if where == "_indicator":
            target = target["indicators"][1]
        target.update(yaml.safe_load(fields))
        return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    return WORKSPACE + change


def prepare(folder: Path) -> Path:
    """The workspace the cases run against, and the files some of them read."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "guarantor.yaml").write_text(WORKSPACE)
    for name, change in WORKSPACE_VALUES.items():
        (folder / f"value-{_slug(name)}.yaml").write_text(_workspace_with(change))
    for n, tag in enumerate(TAGS):
        (folder / f"tag-{n}.yaml").write_text(f"name: {tag}\n")
    issue = {"number": 1, "title": "x" * ((1 << 20) + 1), "state": "open", "created_at": "2026-01-01T00:00:00Z"}
    (folder / "long-title.json").write_text(json.dumps([issue]))
    (folder / "long-body.json").write_text(json.dumps([{**issue, "title": "t", "body": "b" * ((1 << 20) + 1)}]))
    (folder / "long-label.json").write_text(json.dumps([{**issue, "title": "t", "labels": ["l" * ((1 << 20) + 1)]}]))
    return folder / "guarantor.yaml"


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in name)


def cases(folder: Path) -> list[Case]:
    ws = str(folder / "guarantor.yaml")
    found: list[Case] = []
    for setting in NUMERIC_SETTINGS:
        for value in NOT_NUMBERS:
            found.append(
                Case(
                    f"GUARANTOR_{setting}={value}",
                    ["data", "status"],
                    frozenset({USAGE}),
                    {f"GUARANTOR_{setting}": value},
                )
            )
    for url in ("mysql://me:pw@db/g", "sqlite:////proc/nope/x.db", "postgresql+asyncpg://me@127.0.0.1/g", "oracle://x"):
        found.append(Case(f"database {url}", ["check", ws], frozenset({DATABASE}), {"GUARANTOR_DATABASE_URL": url}))
    for value in BAD_HOURS:
        found.append(
            Case(f"role --hours {value!r}", ["role", "registered nurse", "--hours", value], frozenset({USAGE}))
        )
        found.append(
            Case(f"init --hours {value!r}", ["init", str(folder / "new.yaml"), "--hours", value], frozenset({USAGE}))
        )
    for value in BAD_PORTS:
        found.append(Case(f"serve --port {value!r}", ["serve", ws, "--port", value], frozenset({USAGE})))
    for value in ("0", "65", "-1", "abc"):
        found.append(Case(f"serve --workers {value!r}", ["serve", ws, "--workers", value], frozenset({USAGE})))
    for value in BAD_IDS:
        found.append(Case(f"token revoke {value!r}", ["token", "revoke", value], frozenset({USAGE})))
    found.append(Case("token revoke of no token", ["token", "revoke", "123456"], frozenset({NOT_FOUND})))
    for value in BAD_VALUES:
        codes = {INPUT, USAGE} if value.startswith("-") else {INPUT}  # "-inf" reads as an option: usage
        found.append(Case(f"record {value!r}", ["record", "o", "m", value, "-w", ws], frozenset(codes)))
    found.append(Case("record to no outcome", ["record", "nope", "m", "1", "-w", ws], frozenset({NOT_FOUND})))
    found.append(Case("record to no indicator", ["record", "o", "nope", "1", "-w", ws], frozenset({NOT_FOUND})))
    found.append(Case("record to a measured one", ["record", "o", "q", "1", "-w", ws], frozenset({INPUT})))
    found.append(
        Case("record in the future", ["record", "o", "m", "1", "--at", "2999-01-01", "-w", ws], frozenset({INPUT}))
    )
    found.append(
        Case(
            "record at no time", ["record", "o", "m", "1", "--at", "yesterday-ish", "-w", ws], frozenset({INPUT, USAGE})
        )
    )
    for name in BAD_USERS:
        found.append(
            Case(
                f"user add {name!r}",
                ["user", "add", name, "--password-stdin", "-w", ws],
                frozenset({INPUT, USAGE} if name.startswith("-") else {INPUT}),  # "-bob" reads as an option
                stdin=b"a-long-password\n",
            )
        )
    found.append(
        Case(
            "user add, short password",
            ["user", "add", "ann", "--password-stdin", "-w", ws],
            frozenset({INPUT}),
            stdin=b"x\n",
        )
    )
    found.append(Case("user add, no terminal", ["user", "add", "ann", "-w", ws], frozenset({INPUT})))
    for n, tag in enumerate(TAGS):
        found.append(Case(f"tag {tag}", ["validate", str(folder / f"tag-{n}.yaml")], frozenset({INPUT})))
    for name in WORKSPACE_VALUES:
        path = str(folder / f"value-{_slug(name)}.yaml")
        for command in ("validate", "check"):
            found.append(Case(f"{command}: {name}", [command, path], frozenset({INPUT})))
    for name in ("long-title", "long-body", "long-label"):
        found.append(
            Case(
                f"import github {name}",
                ["import", "github", str(folder / f"{name}.json"), "-w", ws],
                frozenset({INPUT}),
            )
        )
    for query in ("", " ", "x" * 10_000, "%s%s%n", "../../etc/passwd", "'; DROP TABLE users; --", "\u202eesrever"):
        found.append(Case(f"role {query[:20]!r}", ["role", query], frozenset({USAGE, NOT_FOUND, AMBIGUOUS})))
    found.append(Case("check --outcome missing", ["check", ws, "--outcome", "nope"], frozenset({NOT_FOUND})))
    found.append(Case("check --outcome too long", ["check", ws, "--outcome", "o" * 5000], frozenset({NOT_FOUND})))
    found.append(Case("history of nothing", ["history", "nope", "-w", ws], frozenset({NOT_FOUND})))
    found.append(
        Case("no such workspace", ["check", str(folder / "missing" / "guarantor.yaml")], frozenset({NOT_FOUND}))
    )
    found.append(
        Case("a workspace that is a folder of nothing", ["validate", str(folder / "empty")], frozenset({NOT_FOUND}))
    )
    return found


def run(case: Case) -> tuple[int, str]:
    """The case through the command line, in this process: its exit code and what it printed."""
    from guarantor.cli import run as guarantor
    from guarantor.settings import get_settings

    saved = {k: os.environ.get(k) for k in case.env}
    stdin = sys.stdin
    out, err = io.StringIO(), io.StringIO()
    try:
        os.environ.update(case.env)
        get_settings.cache_clear()
        sys.stdin = io.TextIOWrapper(io.BytesIO(case.stdin))
        with redirect_stdout(out), redirect_stderr(err):
            code = int(guarantor(case.args))
    finally:
        sys.stdin = stdin
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        get_settings.cache_clear()
    return code, out.getvalue() + err.getvalue()


def tally(results: Sequence[tuple[Case, int]]) -> dict[str, int]:
    return {
        "hostile_inputs": len(results),
        "documented_exit_code": sum(code in case.codes for case, code in results),
        "exit_1": sum(code == 1 for _, code in results),
    }
