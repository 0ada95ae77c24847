"""Write a new guarantor.yaml, optionally seeded with the tasks of an O*NET occupation."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

import yaml

from guarantor.tasks.catalogue import Occupation
from guarantor.tasks.service import default_hours
from guarantor.workspace.schema import VALUE_QUESTIONS, Workspace, slug

HEADER = (
    "# Guarantor workspace: your work as code. Schema: `guarantor schema` prints it.\n"
    "# People, the tasks they do (hours a week, which outcomes they serve), and the outcomes that matter.\n"
)


TEMPLATE_OUTCOME = {
    "title": "Name an outcome someone else gets from your work",
    "for_whom": "Who benefits",
    "need": "The need of theirs it meets",
    "indicator": "What shows they got it",
    "target": "The level that counts as delivered",
}
TEMPLATE_ROLE = "Describe your role"
TEMPLATE_TASK = "Describe a task you do every week"
TEMPLATE_TEXTS = frozenset([*VALUE_QUESTIONS.values(), *TEMPLATE_OUTCOME.values(), TEMPLATE_ROLE, TEMPLATE_TASK])
"""What `guarantor init` writes, without a terminal, for a person to replace: validate and analyze
refuse a file that still holds any, at its line, so no report ever shows them as content."""


@dataclass(frozen=True)
class OutcomeDraft:
    """An outcome as a person describes it in `guarantor init`."""

    title: str
    for_whom: str
    need: str | None = None
    indicator: str | None = None
    target: str | None = None


def template_fields(ws: Workspace) -> list[tuple[tuple[str | int, ...], str]]:
    """Every field still holding the template's text: (its path in the file, the text)."""
    found: list[tuple[tuple[str | int, ...], str]] = []
    for i, person in enumerate(ws.people):
        if person.role in TEMPLATE_TEXTS:
            found.append((("people", i, "role"), person.role))
        vp = person.value_proposition
        for key in VALUE_QUESTIONS:
            value = getattr(vp, key) if vp else None
            if value in TEMPLATE_TEXTS:
                found.append((("people", i, "value_proposition", key), value))
    for i, outcome in enumerate(ws.outcomes):
        for key in TEMPLATE_OUTCOME:
            value = getattr(outcome, key)
            if value in TEMPLATE_TEXTS:
                found.append((("outcomes", i, key), value))
    found += [(("tasks", i, "text"), t.text) for i, t in enumerate(ws.tasks) if t.text in TEMPLATE_TEXTS]
    return found


def scaffold(
    name: str,
    person: str,
    role: str,
    hours: float,
    occupation: Occupation | None,
    outcomes: list[OutcomeDraft] | None = None,
    answers: dict[str, str] | None = None,
    tasks: list[str] | None = None,
    links: list[list[int]] | None = None,
) -> str:
    """The file's text. Without answers (no terminal), the template's text stands where the person
    must write their own, and validate refuses the file until it is replaced; a guided start gives
    answers, and what was left empty is left out. ``tasks`` replaces the occupation's, which are
    otherwise seeded with their default hours; ``links`` gives, per task, the indexes of the outcomes
    it serves."""
    pid = slug(person, 40, "me")
    drafts = [OutcomeDraft(**TEMPLATE_OUTCOME)] if outcomes is None else outcomes
    ids: list[str] = []
    for draft in drafts:
        base = slug(draft.title, 40, "outcome")
        ids.append(base if base not in ids else f"{base}-{len(ids) + 1}")
    said = dict(VALUE_QUESTIONS) if answers is None else {k: v for k, v in answers.items() if v}
    doc: dict[str, Any] = {
        "version": 1,
        "key": f"{slug(name, 56)}-{secrets.token_hex(3)}",  # unique, so two teams of one name never share history
        "name": name,
        "people": [
            {
                "id": pid,
                "name": person,
                "role": f"{occupation.code} {occupation.title}" if occupation else role,
                "hours_week": hours,
                **({"value_proposition": said} if said else {}),
            }
        ],
        "outcomes": [
            {
                "id": oid,
                **{k: v for k, v in vars(draft).items() if v},
                "owner": pid,
            }
            for oid, draft in zip(ids, drafts, strict=True)
        ],
        "tasks": [],
    }
    if tasks:
        share = round(hours / len(tasks), 1)
        doc["tasks"] = [{"text": text, "hours_week": share, "owner": pid} for text in tasks]
    elif occupation:
        seeded = occupation.tasks
        for t, h in zip(seeded, default_hours([t.task_type for t in seeded], hours), strict=True):
            doc["tasks"].append({"text": t.text, "hours_week": round(h, 1), "owner": pid})
    else:
        doc["tasks"].append({"text": TEMPLATE_TASK, "hours_week": 4, "owner": pid})
    served = links or [[0] if outcomes is None and i == 0 else [] for i in range(len(doc["tasks"]))]
    for task, indexes in zip(doc["tasks"], served, strict=True):  # the template shows how serves: works
        task["serves"] = [ids[i] for i in indexes]
    return HEADER + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=110)


def copied(text: str, name: str | None) -> str:
    """Another workspace's file under a new key (and name, when given), comments and layout kept: a
    folder copied with `cp -r` claimed the same key, and the history of both."""
    import io

    from guarantor.inputs.yamldoc import round_trip

    document = round_trip(text)
    data = document.load(text)
    if name:
        data["name"] = name
    data["key"] = f"{slug(str(data.get('name') or 'workspace'), 56)}-{secrets.token_hex(3)}"
    written = io.StringIO()
    document.dump(data, written)
    return written.getvalue()
