"""A Jira CSV export (Issues > Export > CSV, all fields): its standard columns, repeated column names
(several ``Labels``, ``Component/s``, ``Sprint`` or link columns) gathered, multi-line descriptions."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from guarantor.work.importers.base import Item, csv_rows, parse_number, parse_time

_DONE = {"done", "closed", "resolved", "cancelled", "canceled", "won't do"}
_POINTS = ("Custom field (Story Points)", "Story Points", "Custom field (Story point estimate)", "Story point estimate")
_EPIC = ("Custom field (Epic Link)", "Epic Link", "Parent", "Parent summary")


def read(path: Path) -> Iterator[Item]:
    for row in csv_rows(path, ("Issue key", "Summary"), "a Jira CSV export"):
        status = row.one("Status")
        points = next((name for name in _POINTS if row.one(name)), None)
        links = sorted({v for name in row.columns if "issue link" in name.lower() for v in row.many(name)})
        yield Item(
            source="jira",
            external_id=row.required("Issue key"),
            title=row.required("Summary"),
            kind=(row.one("Issue Type") or "issue").lower(),
            body=row.one("Description"),
            state=status,
            closed=status.lower() in _DONE or bool(row.one("Resolved")),
            created_at=parse_time(row.one("Created"), row.where("Created")),
            closed_at=parse_time(row.one("Resolved"), row.where("Resolved")),
            labels=row.many("Labels"),
            assignee=row.one("Assignee") or None,
            estimate=parse_number(row.one(points), row.where(points)) if points else None,
            epic=next((row.one(c) for c in _EPIC if row.one(c)), None),
            components=row.many("Component/s"),
            links=links,
            line=row.line,
        )
