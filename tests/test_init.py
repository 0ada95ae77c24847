"""The guided start on a real terminal (a pty driven by pexpect): an ambiguous role picked from
candidates, two outcomes, the three value-proposition answers; the file validates and analyses as
no draft. Without a terminal, the template's text is flagged by validate and kept out of the plan."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pexpect

from guarantor.settings import Settings

ANSWERS = [
    ("Workspace name", "Ward 7"),
    ("Your name", "Priya Shah"),
    ("Your role", "nurse specialist"),
    ("Pick one", "1"),  # 1. Registered Nurses, 2. Clinical Nurse Specialists, …
    ("Hours in your week", "36"),
    ("Outcome 1, its title", "Patients go home knowing their medicines"),
    ("For whom", "Patients leaving the ward"),
    ("The need of theirs it meets", "No readmission for a wrong dose"),
    ("How would they know", "They explain each medicine back at discharge"),
    ("The level that counts", "95% of discharges"),
    ("Outcome 2, its title", "Night shifts hand over without gaps"),
    ("For whom", "The next shift"),
    ("The need of theirs it meets", ""),
    ("How would they know", "No task is missed at handover"),
    ("The level that counts", "Every handover"),
    ("Outcome 3, its title", ""),
    ("What outcomes do I consistently deliver", "Patients who leave able to look after themselves."),
    ("What problems am I obsessed with", "Why discharges go wrong on Friday evenings."),
    ("What perspective do I bring", "Twelve years on a surgical ward."),
    ("Keep the", "y"),
]


def _init_on_a_terminal(path: Path) -> pexpect.spawn:
    """`guarantor init` on a pty of 40 x 100, as a person's terminal."""
    return pexpect.spawn(
        sys.executable,
        ["-m", "guarantor", "init", str(path)],
        env={**os.environ, "COLUMNS": "100", "NO_COLOR": "1"},
        encoding="utf-8",
        timeout=120,
        dimensions=(40, 100),
    )


def test_a_guided_start_on_a_terminal(env: Settings, tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "guarantor.yaml"
    child = _init_on_a_terminal(path)
    try:
        for prompt, answer in ANSWERS:
            child.expect_exact(prompt)
            if prompt == "Pick one":
                assert "Registered Nurses" in (child.before or "") and "Nurse Midwives" in (child.before or "")
            child.sendline(answer)
        child.expect_exact("Wrote")
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert child.exitstatus == 0, child.before
    text = path.read_text()
    assert "29-1141.00 Registered Nurses" in text and "Night shifts hand over without gaps" in text
    r = cli("validate", str(path))
    assert r.code == 0 and "warning" not in r.err and "2 outcomes" in r.out, r.err
    report = tmp_path / "report.html"
    r = cli("analyze", str(path), "-o", str(report), "--json")
    assert r.code == 0 and "Draft" not in r.err, r.err
    analysis = json.loads(r.out)
    assert analysis["draft"] == []
    assert analysis["people"][0]["value_proposition"]["perspective"] == "Twelve years on a surgical ward."
    assert any("Patients go home knowing their medicines" in m for m in analysis["plan"]["outcomes_that_matter"])
    assert "Draft:" not in report.read_text()


def test_a_file_left_as_the_template_is_a_draft(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "guarantor.yaml"
    assert cli("init", str(path), "--from-role", "Registered Nurses").code == 0
    r = cli("validate", str(path))
    assert r.code == 0 and r.err.count("still the template's text") == 8, r.err  # role and tasks given: 8 left
    assert f"{path}:12:" in r.err  # the first value-proposition answer, at its line
    report = tmp_path / "report.html"
    r = cli("analyze", str(path), "-o", str(report), "--json")
    analysis = json.loads(r.out)
    assert len(analysis["draft"]) == 8 and "Draft:" in r.err
    plan = json.dumps(analysis["plan"])
    assert "Who benefits" not in plan and "What outcomes do I consistently deliver" not in plan
    assert "Draft:" in report.read_text()


def test_the_report_reads_as_words_and_shows_the_role_shift(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """No internal ids or bare codes for a manager: levels in words with a legend, tasks by their
    text, and what changed since the last analysis."""
    import re
    import shutil

    from tests.conftest import EXAMPLES

    folder = tmp_path / "team"
    shutil.copytree(EXAMPLES / "product-team", folder)
    path = folder / "guarantor.yaml"
    assert cli("analyze", str(path), "-o", str(tmp_path / "first.html")).code == 0
    text = path.read_text()
    first_task = re.search(r"- \{text: ([^,]+),", text)
    assert first_task
    path.write_text(text.replace(first_task[1], "Draft the clinic newsletter every week"))
    report = tmp_path / "report.html"
    assert cli("analyze", str(path), "-o", str(report)).code == 0
    html = report.read_text()
    assert "Since the last analysis" in html and "Draft the clinic newsletter every week" in html
    assert first_task[1] in html.split("Since the last analysis")[1].split("</section>")[0], "the removed task"
    assert not re.search(r"served by [^<]*task-\d", html), "tasks by their text, not their ids"
    assert "an LLM alone would halve its time" in html and "mostly automated, a person checks" in html
    assert "task(s)" not in html and "outcome(s)" not in html


def test_ctrl_c_or_ctrl_d_in_the_guided_start_exits_130_and_writes_nothing(env: Settings, tmp_path: Path) -> None:
    """Stopping at a prompt is the person's choice, not a bug: exit 130 (INTERRUPTED), no file."""
    for stop in ("\x03", "\x04"):  # Ctrl-C, Ctrl-D
        path = tmp_path / "guarantor.yaml"
        child = _init_on_a_terminal(path)
        try:
            child.expect_exact("Workspace name")
            child.sendline("Ward 7")
            child.expect_exact("Your name")
            child.send(stop)
            child.expect(pexpect.EOF)
        finally:
            child.close()
        assert child.exitstatus == 130, (stop, child.exitstatus, child.signalstatus)
        assert not path.exists()
