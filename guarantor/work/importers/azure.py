"""An Azure DevOps (Azure Boards) work-item CSV export: Boards > Queries > a query > Export to CSV.

Its columns are the query's columns, by their display names (``Work Item Type``, ``Assigned To``,
``Iteration Path``). A flat query writes ``Title``; a tree query (work items and direct links)
writes ``Title 1``, ``Title 2``, … with each row's title in the column of its level, its parent
the nearest row above it one level up. People come as ``Name <email>``, tags as ``a; b``, paths
as ``Project\\Team\\Sprint 4``, dates in the exporting user's locale.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from html import unescape
from pathlib import Path

from guarantor.inputs.dates import DateOrder
from guarantor.work.importers import Importer
from guarantor.work.importers.base import Columns, FileDates, Item, Row, RowItems, columns_of, csv_rows, header

FIELDS: dict[str, tuple[str, ...]] = {
    "kind": ("Work Item Type",),
    "body": ("Description", "Repro Steps", "Acceptance Criteria"),
    "state": ("State",),
    "created_at": ("Created Date",),
    "started_at": ("Activated Date",),
    "closed_at": ("Closed Date", "Resolved Date"),
    "labels": ("Tags",),
    "assignee": ("Assigned To",),
    "estimate": ("Story Points", "Effort", "Size", "Original Estimate"),
    "epic": ("Parent Title",),  # a flat query can add it; a tree query gives it by level
    "components": ("Area Path",),
    "sprint": ("Iteration Path",),
    "links": ("Parent",),
}
_DONE = {"done", "closed", "removed", "resolved", "completed"}
_LEVEL = re.compile(r"^Title (\d+)$")


def read(path: Path, _mapping: Mapping[str, str], order: DateOrder) -> tuple[Columns, Iterator[Item]]:
    names = header(path)
    levels = sorted((n for n in names if _LEVEL.match(n)), key=lambda n: int(n.split()[1]))
    columns = columns_of(names, {"id": ("ID",), "title": tuple(levels) or ("Title",), **FIELDS})
    return columns, _items(path, columns, order)


def _items(path: Path, columns: Columns, order: DateOrder) -> Iterator[Item]:
    c = columns.read
    titles = c["title"] or ("Title",)
    when = FileDates(path, c["created_at"] + c["started_at"] + c["closed_at"], order)
    item_of = RowItems("azure", c, when)
    above: list[str] = []  # the titles of the rows above, by level: a tree query's parents
    for row in csv_rows(path, ("ID", titles[0]), "an Azure DevOps work-item CSV export"):
        title, level = _title(row, titles)
        del above[level:]
        above += [""] * (level - len(above)) + [title]
        state = row.text(c["state"])
        closed_at = when(row, c["closed_at"])
        closed = state.lower() in _DONE or closed_at is not None
        parent = next((t for t in reversed(above[:level]) if t), None)
        yield item_of(
            row,
            external_id=row.required("ID"),
            title=title,
            kind=(row.text(c["kind"]) or "work item").lower(),
            body=_plain(row.text(c["body"])),
            state=state,
            closed=closed,
            closed_at=closed_at if closed else None,
            assignee=_person(row.text(c["assignee"])),
            epic=row.text(c["epic"]) or parent,
            components=[_leaf(p) for p in row.gather(c["components"])],
            sprint=_leaf(row.text(c["sprint"])) or None,
        )


def _title(row: Row, titles: tuple[str, ...]) -> tuple[str, int]:
    """The row's title and its level (0 for a flat query)."""
    for level, name in enumerate(titles):
        if value := row.one(name):
            return value, level
    return row.required(titles[0]), 0


def _person(value: str) -> str | None:
    """``Ana Silva <ana@contoso.com>`` as ``Ana Silva``."""
    return re.sub(r"\s*<[^>]*>\s*$", "", value).strip() or None


def _leaf(path: str) -> str:
    """The last part of an area or iteration path: ``Shop\\Payments`` is ``Payments``."""
    return path.replace("/", "\\").rsplit("\\", 1)[-1].strip()


def _plain(markup: str) -> str:
    """Descriptions are HTML: the text, for the exposure model and the suggestions."""
    text = re.sub(r"<(br|/p|/div|/li)\s*/?>", "\n", markup, flags=re.IGNORECASE)
    return re.sub(r"[ \t\xa0]+", " ", unescape(re.sub(r"<[^>]+>", "", text))).strip()


IMPORTER = Importer("Azure DevOps: Boards > Queries > Export to CSV (a flat or a tree query)", read)
