"""The kind of work an item is, as Swarmia's investment balance splits effort: new work, maintenance,
bugs, chores. Read from the words trackers and teams already use: a label first (a team's own
word for it), then the issue type. An item neither names is "not categorised", never a guess."""

from __future__ import annotations

from collections.abc import Sequence

NOT_CATEGORISED = "not categorised"
WORDS = {
    "bugs": ("bug", "defect", "incident", "hotfix", "regression", "problem"),
    "maintenance": (
        "maintenance", "tech debt", "technical debt", "tech-debt", "refactor", "refactoring", "upgrade",
        "dependencies", "dependency", "security", "performance", "ktlo",
    ),
    "chores": ("chore", "chores", "housekeeping", "documentation", "docs"),
    "new work": (
        "story", "user story", "feature", "new feature", "enhancement", "improvement", "epic",
        "product backlog item", "requirement",
    ),
}  # fmt: skip
"""Each category's words, as Jira, Azure DevOps, GitHub and Linear name issue types and labels.
Words that name a team or an area more often than a kind of work ("support", "ops", "backend")
are left out: a Story labelled support is new work for the support team."""
CATEGORIES = (*WORDS, NOT_CATEGORISED)
_BY_WORD = {word: name for name, words in WORDS.items() for word in words}


def category(kind: str, labels: Sequence[str]) -> str:
    """The first label that names a category, else the issue type's, else ``NOT_CATEGORISED``."""
    for word in (*labels, kind):
        found = _BY_WORD.get(word.strip().lower().replace("_", " "))
        if found:
            return found
    return NOT_CATEGORISED
