"""Link suggestions on a labelled set: three projects' trackers (payments, online courses, a
warehouse), 213 items written as teams write them, each with the outcome it really serves chosen by
hand, or none (chores). Prints, at the default thresholds, the precision of the first suggestion
(an item that serves no outcome and gets one counts against it), its recall, the share of items
that get any suggestion when the outcomes are another project's (unrelated), and the time per item.
"""

from __future__ import annotations

import time
from pathlib import Path

import yaml
from _common import report

from guarantor.work.service import Suggester
from guarantor.workspace.schema import Outcome

LINKS = Path(__file__).parent / "data" / "links"


def load() -> dict[str, tuple[list[Outcome], list[tuple[str, str]]]]:
    projects = {}
    for path in sorted(LINKS.glob("*.yaml")):
        data = yaml.safe_load(path.read_text())
        items = [(row[0], " ".join(row[1:])) for row in data["items"]]
        projects[path.stem] = ([Outcome(**o) for o in data["outcomes"]], items)
    return projects


def main() -> None:
    projects = load()
    figures: dict[str, object] = {}
    right = suggested = relevant = unrelated = unrelated_total = 0
    start = time.perf_counter()
    for name, (outcomes, items) in projects.items():
        corpus = [text for _, text in items]
        suggester = Suggester(outcomes, corpus)
        hits = shown = 0
        for outcome, text in items:
            found = suggester.suggest(text)
            relevant += outcome != "none"
            if found:
                shown += 1
                hits += found[0].outcome == outcome
        right, suggested = right + hits, suggested + shown
        figures[f"{name}_precision"] = hits / shown if shown else 1.0
        for other, (their_outcomes, _) in projects.items():
            if other != name:
                stranger = Suggester(their_outcomes, corpus)
                unrelated += sum(bool(stranger.suggest(text)) for _, text in items)
                unrelated_total += len(items)
    seconds = time.perf_counter() - start
    report(
        "link_accuracy",
        {
            "projects": len(projects),
            "items": sum(len(items) for _, items in projects.values()),
            "precision": right / suggested if suggested else 1.0,
            "recall": right / relevant,
            "suggested_share": suggested / sum(len(items) for _, items in projects.values()),
            "unrelated_suggested_share": unrelated / unrelated_total,
            **figures,
            "microseconds_per_item": seconds / (sum(len(i) for _, i in projects.values()) * len(projects)) * 1e6,
        },
    )


if __name__ == "__main__":
    main()
