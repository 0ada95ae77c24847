"""A Jira CSV export (Issues > Export > CSV, current fields or all fields), from Jira Cloud, Server or
Data Center: repeated column names (several ``Labels``, ``Sprint`` or link columns) gathered,
multi-line descriptions, dates in the exporting user's form and language."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

from guarantor.inputs.dates import DateOrder
from guarantor.work.importers import Importer
from guarantor.work.importers.base import Columns, FileDates, Item, RowItems, columns_of, csv_rows, header

FIELDS: dict[str, tuple[str, ...]] = {
    "id": ("Issue key",),
    "title": ("Summary",),
    "kind": ("Issue Type",),
    "body": ("Description",),
    "state": ("Status",),
    "done": ("Status Category",),  # Jira Cloud: To Do, In Progress, Done, whatever the status is called
    "created_at": ("Created",),
    "closed_at": ("Resolved", "Status Category Changed"),  # the second for done items nobody resolved
    "labels": ("Labels",),
    "assignee": ("Assignee",),
    "estimate": (
        "Custom field (Story Points)",
        "Story Points",
        "Custom field (Story point estimate)",
        "Story point estimate",
    ),
    # The epic by name where the export has it (Cloud's parent), else by key (Server's Epic Link).
    "epic": ("Parent summary", "Custom field (Epic Link)", "Epic Link", "Parent key", "Parent"),
    "components": ("Components", "Component/s"),
    "sprint": ("Sprint",),  # repeated: one column a sprint the issue was in, the latest last
}
_DONE = {"done", "closed", "resolved", "cancelled", "canceled", "won't do"}


def read(path: Path, _mapping: Mapping[str, str], order: DateOrder) -> tuple[Columns, Iterator[Item]]:
    names = header(path)
    columns = columns_of(names, FIELDS | {"links": tuple(n for n in names if "issue link" in n.lower())})
    return columns, _items(path, columns, order)


def _items(path: Path, columns: Columns, order: DateOrder) -> Iterator[Item]:
    c = columns.read
    when = FileDates(path, c["created_at"] + c["closed_at"], order)
    item_of = RowItems("jira", c, when)
    for row in csv_rows(path, ("Issue key", "Summary"), "a Jira CSV export"):
        status, _ = row.first(c["state"])
        category, _ = row.first(c["done"])
        closed = category.lower() == "done" or status.lower() in _DONE or bool(row.one("Resolved"))
        yield item_of(
            row,
            external_id=row.required("Issue key"),
            title=row.required("Summary"),
            kind=(row.text(c["kind"]) or "issue").lower(),
            state=status,
            closed=closed,
            closed_at=when(row, c["closed_at"]) if closed else None,
            labels=row.gather(c["labels"]),
            sprint=next(reversed(row.gather(c["sprint"])), None),
            links=sorted(set(row.gather(c["links"]))),
        )


IMPORTER = Importer("Jira: Issues > Export > CSV (all fields)", read)
