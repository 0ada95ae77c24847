"""Any CSV, with a column mapping: ``--map id=Key --map title=Name --map closed_at=Done``."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

from guarantor.errors import InputError
from guarantor.inputs.dates import DateOrder
from guarantor.work.importers import Importer
from guarantor.work.importers.base import Columns, FileDates, Item, RowItems, columns_of, csv_rows, header

FIELDS = (
    "id",
    "title",
    "body",
    "kind",
    "state",
    "created_at",
    "started_at",
    "closed_at",
    "labels",
    "assignee",
    "estimate",
    "epic",
    "components",
    "sprint",
    "url",
)
_DONE = {"done", "closed", "resolved", "complete", "completed"}


def read(path: Path, mapping: Mapping[str, str], order: DateOrder) -> tuple[Columns, Iterator[Item]]:
    unknown = set(mapping) - set(FIELDS)
    if unknown:
        raise InputError(f"--map: unknown field(s) {', '.join(sorted(unknown))}; known: {', '.join(FIELDS)}")
    names = header(path)
    for name, column in mapping.items():
        if column not in names:
            raise InputError(f"{path}:1: no column {column!r} (mapped to {name})")
    columns = columns_of(names, {name: (mapping.get(name, name),) for name in FIELDS})
    return columns, _items(path, columns, order)


def _items(path: Path, columns: Columns, order: DateOrder) -> Iterator[Item]:
    c = columns.read
    id_, title = columns.read["id"] or ("id",), columns.read["title"] or ("title",)
    when = FileDates(path, c["created_at"] + c["started_at"] + c["closed_at"], order)
    item_of = RowItems("csv", c, when)
    rows = csv_rows(
        path,
        (id_[0], title[0]),
        f"a CSV with {id_[0]} and {title[0]} columns (map others with --map id=COLUMN --map title=COLUMN)",
    )
    for row in rows:
        closed_at = when(row, c["closed_at"])
        state = row.text(c["state"])
        yield item_of(
            row,
            external_id=row.required(id_[0]),
            title=row.required(title[0]),
            kind=row.text(c["kind"]) or "item",
            state=state,
            closed=closed_at is not None or state.lower() in _DONE,
            closed_at=closed_at,
            components=row.listed(c["components"]),
        )


IMPORTER = Importer("any CSV: --map FIELD=COLUMN for the columns not named as the fields", read, mapped=True)
