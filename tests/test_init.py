"""The guided start on a real terminal (tmux, and a pty driven by pexpect): the occupation
confirmed or picked, outcomes, which tasks serve each, the value proposition; the file validates
and analyses. Without a terminal, the template's text fails validate and analyze until replaced."""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

import pexpect

from guarantor.settings import Settings
from tests.terminal import Terminal


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


def test_a_guided_start_links_every_task_to_an_outcome(env: Settings, tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """A product manager on a real terminal (tmux): the occupation found is shown at once and the
    person picks another from the list; two outcomes; every task linked to one; then the value
    proposition. The report has no template text and no orphan task."""
    path = tmp_path / "guarantor.yaml"
    with Terminal([sys.executable, "-m", "guarantor", "init", str(path)], dict(os.environ), tmp_path) as term:
        for prompt, answer in [("Workspace name", "Checkout squad"), ("Your name", "Dana Lee")]:
            term.expect(prompt)
            term.type(answer)
        term.expect("Your role")
        term.type("product manager")
        screen = term.expect("Pick one by number")
        assert "Found: Marketing Managers (11-2021.00)" in screen, screen
        picked = re.search(r"(\d)\. Information Technology Project Managers", screen)
        assert picked, screen
        term.type(picked[1])
        term.expect("Hours in your week")
        term.type("40")
        outcomes = [
            (
                "Shoppers pay without leaving the checkout",
                "Shoppers on the web shop",
                "Checkout completion rate",
                "85%",
            ),
            (
                "Support hears of payment failures first from us",
                "The support team",
                "Incidents we report first",
                "9 in 10",
            ),
        ]
        for title, for_whom, indicator, target in outcomes:
            term.expect("its title")
            term.type(title)
            for prompt, answer in [
                ("For whom", for_whom),
                ("The need of theirs", ""),
                ("How would they know", indicator),
                ("The level that counts", target),
            ]:
                term.expect(prompt)
                term.type(answer)
        term.expect("its title")
        term.type("")
        screen = term.expect("Keep the")
        tasks = int(re.findall(r"Keep the (\d+) tasks of Information Technology Project Managers", screen)[-1])
        term.type("y")
        term.expect("Tasks serving 'Shoppers pay")
        term.type(f"1-{tasks - 1}")
        term.expect("Tasks serving 'Support hears")
        term.type(f"2, {tasks}")
        for prompt, answer in [
            ("What outcomes do I consistently deliver", "A checkout people finish."),
            ("What problems am I obsessed with", "Why a payment fails only on Fridays."),
            ("What perspective do I bring", "Ten years of talking to shoppers."),
        ]:
            term.expect(prompt)
            term.type(answer)
        term.expect("Wrote")
        assert term.exit_code() == 0, term.screen()
    text = path.read_text()
    assert "15-1299.09 Information Technology Project Managers" in text
    r = cli("validate", str(path))
    assert r.code == 0 and "2 outcomes" in r.out, r.err
    report = tmp_path / "report.html"
    r = cli("analyze", str(path), "-o", str(report), "--json")
    assert r.code == 0, r.err
    analysis = json.loads(r.out)
    assert analysis["orphan_tasks"] == [] and len(analysis["tasks"]) == tasks
    assert sum(len(t["serves"]) == 2 for t in analysis["tasks"]) == 1  # task 2 serves both
    assert analysis["people"][0]["value_proposition"]["perspective"] == "Ten years of talking to shoppers."
    html = report.read_text()
    from guarantor.workspace.scaffold import TEMPLATE_TEXTS

    assert not [t for t in TEMPLATE_TEXTS if t in html]
    assert "Shoppers pay without leaving the checkout" in html


def test_a_guided_start_says_which_tasks_serve_no_outcome(env: Settings, tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """Own tasks, one outcome, one task left unlinked: that is an answer, said at once and kept."""
    path = tmp_path / "guarantor.yaml"
    child = _init_on_a_terminal(path)
    try:
        for prompt, answer in [
            ("Workspace name", "Ward 7"),
            ("Your name", "Priya Shah"),
            ("Your role", "nurse specialist"),
            ("Pick one", "zzqx blorf"),  # not a number: search again
            ("No O*NET occupation clearly matches 'zzqx blorf'", None),
            ("Pick one", "registered nurse"),
            ("Found: Registered Nurses", None),
            ("Pick one", "1"),
            ("Hours in your week", "36"),
            ("its title", "Patients go home knowing their medicines"),
            ("For whom", "Patients leaving the ward"),
            ("The need of theirs", ""),
            ("How would they know", ""),
            ("The level that counts", ""),
            ("its title", ""),
            ("Keep the", "n"),
            ("Task 1", "Teach each patient their medicines before discharge"),
            ("Task 2", "Order supplies for the ward"),
            ("Task 3", ""),
            ("Tasks serving", "3"),  # out of range: asked again
            ("Numbers from 1 to 2", None),
            ("Tasks serving", "1"),
            ("1 task serve no outcome (2)", None),
            ("What outcomes do I consistently deliver", ""),
            ("What problems am I obsessed with", ""),
            ("What perspective do I bring", ""),
            ("Wrote", None),
        ]:
            child.expect_exact(prompt)
            if answer is not None:
                child.sendline(answer)
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert child.exitstatus == 0, child.before
    r = cli("analyze", str(path), "--json")
    assert r.code == 0, r.err
    analysis = json.loads(r.out)
    assert [t["assessment"]["text"] for t in analysis["tasks"] if t["id"] in analysis["orphan_tasks"]] == [
        "Order supplies for the ward"
    ]
    assert analysis["people"][0]["value_proposition"] is None  # unanswered: left out, not the template


def test_a_file_left_as_the_template_fails_until_it_is_written(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Without a terminal, init writes the template for the person to replace: validate and analyze
    refuse it at each line (exit 3), so no report ever shows it as content."""
    path = tmp_path / "guarantor.yaml"
    r = cli("init", str(path), "--from-role", "Registered Nurses")
    assert r.code == 0 and "8 fields still hold the template's text" in r.out, r.out
    r = cli("validate", str(path))
    assert r.code == 3 and r.err.count("still the template's text") == 8, r.err  # role and tasks given: 8 left
    assert f"{path}:12:" in r.err  # the first value-proposition answer, at its line
    report = tmp_path / "report.html"
    r = cli("analyze", str(path), "-o", str(report))
    assert r.code == 3 and "still the template's text" in r.err and not report.exists()
    from guarantor.workspace.scaffold import TEMPLATE_OUTCOME
    from guarantor.workspace.schema import VALUE_QUESTIONS

    text = path.read_text()
    for placeholder in [*VALUE_QUESTIONS.values(), *TEMPLATE_OUTCOME.values()]:
        text = text.replace(placeholder, f"Ours, {len(placeholder)}")
    path.write_text(text)
    assert cli("validate", str(path)).code == 0
    assert cli("analyze", str(path), "-o", str(report)).code == 0


def test_init_from_another_workspace_copies_it_under_a_new_key(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A folder copied with `cp -r` claims the same key as its original (and was refused for it);
    init --from makes a copy that is a workspace of its own."""
    from tests.conftest import EXAMPLES

    target = tmp_path / "copy"
    target.mkdir()
    r = cli("init", str(target), "--from", str(EXAMPLES / "product-team"), "--name", "Checkout squad")
    assert r.code == 0, r.err
    original = (EXAMPLES / "product-team" / "guarantor.yaml").read_text()
    copy = (target / "guarantor.yaml").read_text()
    key = re.search(r"^key: (.+)$", original, re.M)
    new_key = re.search(r"^key: (checkout-squad-[0-9a-f]{6})$", copy, re.M)
    assert key and new_key and "name: Checkout squad" in copy
    assert copy.replace(new_key[0], key[0]).replace("name: Checkout squad", "") == original.replace(
        re.search(r"^name: .+$", original, re.M)[0],
        "",  # type: ignore[index]
    )
    assert cli("validate", str(target)).code == 0


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
    shown = re.sub(r"<[^>]+>", " ", re.sub(r"<style.*?</style>|<script.*?</script>", "", html, flags=re.S))
    assert not re.search(r"\b1 outcome gaps\b|0\.00% of conversations|AT_RISK|AT RISK|NO_DATA", shown)


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
