"""Write a new guarantor.yaml, optionally seeded with the tasks of an O*NET occupation."""

from __future__ import annotations

import re
from typing import Any

import yaml

from guarantor.tasks.catalogue import Occupation
from guarantor.tasks.service import default_hours

HEADER = (
    "# Guarantor workspace: your work as code. Schema: `guarantor schema` prints it.\n"
    "# People, the tasks they do (hours a week, which outcomes they serve), and the outcomes that matter.\n"
)


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "me"


def scaffold(name: str, person: str, role: str, hours: float, occupation: Occupation | None) -> str:
    pid = slug(person)
    doc: dict[str, Any] = {
        "version": 1,
        "name": name,
        "people": [
            {
                "id": pid,
                "name": person,
                "role": f"{occupation.code} {occupation.title}" if occupation else role,
                "hours_week": hours,
                "value_proposition": {
                    "outcomes_delivered": "What outcomes do I consistently deliver that matter to others?",
                    "problems_obsessed_with": "What problems am I obsessed with solving?",
                    "perspective": "What perspective do I bring that AI can't replicate?",
                },
            }
        ],
        "outcomes": [
            {
                "id": "first-outcome",
                "title": "Name an outcome someone else gets from your work",
                "for_whom": "Who benefits",
                "need": "The need of theirs it meets",
                "indicator": "What shows they got it",
                "target": "The level that counts as delivered",
                "owner": pid,
            }
        ],
        "tasks": [],
    }
    if occupation:
        tasks = occupation.tasks
        for t, h in zip(tasks, default_hours([t.task_type for t in tasks], hours), strict=True):
            doc["tasks"].append({"text": t.text, "hours_week": round(h, 1), "owner": pid, "serves": []})
        doc["tasks"][0]["serves"] = ["first-outcome"]
    else:
        doc["tasks"].append(
            {
                "text": "Describe a task you do every week",
                "hours_week": 4,
                "owner": pid,
                "serves": ["first-outcome"],
            }
        )
    return HEADER + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=110)
