"""A Linear CSV export (Settings > Import/export > Export CSV): dates as JavaScript writes them
(``Tue Aug 23 2022 13:54:01 GMT+0000 (GMT)``), labels comma-separated in one cell."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

from guarantor.inputs.dates import DateOrder
from guarantor.work.importers import Importer
from guarantor.work.importers.base import Columns, FileDates, Item, RowItems, columns_of, csv_rows, header

FIELDS: dict[str, tuple[str, ...]] = {
    "id": ("ID",),
    "title": ("Title",),
    "body": ("Description",),
    "state": ("Status",),
    "created_at": ("Created",),
    "started_at": ("Started",),
    "closed_at": ("Completed", "Canceled"),
    "labels": ("Labels",),
    "assignee": ("Assignee",),
    "estimate": ("Estimate",),
    "epic": ("Project", "Project Milestone"),
    "components": ("Team",),
    "sprint": ("Cycle Name", "Cycle Number"),
    "links": ("Parent issue",),
}


def read(path: Path, _mapping: Mapping[str, str], order: DateOrder) -> tuple[Columns, Iterator[Item]]:
    columns = columns_of(header(path), FIELDS)
    return columns, _items(path, columns, order)


def _items(path: Path, columns: Columns, order: DateOrder) -> Iterator[Item]:
    c = columns.read
    when = FileDates(path, c["created_at"] + c["started_at"] + c["closed_at"], order)
    item_of = RowItems("linear", c, when)
    for row in csv_rows(path, ("ID", "Title"), "a Linear CSV export"):
        closed_at = when(row, c["closed_at"])
        yield item_of(
            row,
            external_id=row.required("ID"),
            title=row.required("Title"),
            closed=closed_at is not None,
            closed_at=closed_at,
        )


IMPORTER = Importer("Linear: Settings > Import/export > Export CSV", read)
