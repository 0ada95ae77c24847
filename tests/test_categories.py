"""The kind of work an item is, read from the words trackers write: a corpus of issue types and
labels as Jira, Azure DevOps, GitHub and Linear export them."""

from __future__ import annotations

from pathlib import Path

import pytest

from guarantor.work.categories import NOT_CATEGORISED, category

CORPUS = [
    # (issue type, labels, kind of work)
    ("Bug", [], "bugs"),  # Jira, Azure DevOps
    ("Defect", [], "bugs"),
    ("Incident", [], "bugs"),
    ("Story", [], "new work"),
    ("User Story", [], "new work"),  # Azure DevOps (Agile)
    ("Product Backlog Item", [], "new work"),  # Azure DevOps (Scrum)
    ("New Feature", [], "new work"),  # Jira Server
    ("Improvement", [], "new work"),
    ("Epic", [], "new work"),
    ("issue", ["bug"], "bugs"),  # GitHub
    ("issue", ["enhancement"], "new work"),
    ("issue", ["documentation"], "chores"),
    ("issue", ["dependencies"], "maintenance"),  # Dependabot's label
    ("issue", ["good first issue", "Bug"], "bugs"),  # Linear's capitalised labels; the first that names one
    ("Story", ["tech-debt"], "maintenance"),  # the team's label says more than the type
    ("Task", ["TECH_DEBT"], "maintenance"),
    ("Task", ["chore"], "chores"),
    ("Story", ["support"], "new work"),  # an area's label, not a kind of work
    ("Task", [], NOT_CATEGORISED),  # a plain task could be anything: not guessed
    ("Sub-task", ["frontend"], NOT_CATEGORISED),
    ("История", [], NOT_CATEGORISED),  # another language's type: said so, not guessed
]


@pytest.mark.parametrize(("kind", "labels", "expected"), CORPUS)
def test_each_item_gets_the_kind_its_words_name_or_none(kind: str, labels: list[str], expected: str) -> None:
    assert category(kind, labels) == expected


def test_balance_counts_each_item_once_per_kind_of_work(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import json

    from tests.web_server import EXAMPLE

    (tmp_path / "guarantor.yaml").write_text((EXAMPLE / "guarantor.yaml").read_text())
    assert cli("import", "jira", str(EXAMPLE / "jira-export.csv"), "-w", str(tmp_path), "--no-exposure").code == 0
    b = json.loads(cli("balance", str(tmp_path), "--json").out)
    assert sum(v["count"] for v in b["by_category"].values()) == b["items"] == 6
    assert b["by_category"]["new work"]["count"] == 3, "two stories and the epic; one story is labelled support"
    assert "By kind of work: " in cli("balance", str(tmp_path)).out
