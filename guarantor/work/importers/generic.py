"""Any CSV, with a column mapping: ``--map id=Key --map title=Name --map closed_at=Done``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from guarantor.errors import InputError
from guarantor.work.importers.base import Item, csv_rows, parse_number, parse_time, split_list

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
    "url",
)
_DONE = {"done", "closed", "resolved", "complete", "completed"}


def read(path: Path, mapping: dict[str, str]) -> Iterator[Item]:
    unknown = set(mapping) - set(FIELDS)
    if unknown:
        raise InputError(f"--map: unknown field(s) {', '.join(sorted(unknown))}; known: {', '.join(FIELDS)}")
    col = {name: mapping.get(name, name) for name in FIELDS}
    rows = csv_rows(
        path,
        (col["id"], col["title"]),
        f"a CSV with {col['id']} and {col['title']} columns (map others with --map id=COLUMN --map title=COLUMN)",
    )
    for row in rows:
        for name in mapping:
            if col[name] not in row.columns:
                raise InputError(f"{path}:1: no column {col[name]!r} (mapped to {name})")
        closed_at = parse_time(row.one(col["closed_at"]), row.where(col["closed_at"]))
        state = row.one(col["state"])
        yield Item(
            source="csv",
            external_id=row.required(col["id"]),
            title=row.required(col["title"]),
            kind=row.one(col["kind"]) or "item",
            body=row.one(col["body"]),
            state=state,
            closed=closed_at is not None or state.lower() in _DONE,
            created_at=parse_time(row.one(col["created_at"]), row.where(col["created_at"])),
            started_at=parse_time(row.one(col["started_at"]), row.where(col["started_at"])),
            closed_at=closed_at,
            labels=split_list(row.one(col["labels"])),
            assignee=row.one(col["assignee"]) or None,
            estimate=parse_number(row.one(col["estimate"]), row.where(col["estimate"])),
            epic=row.one(col["epic"]) or None,
            components=split_list(row.one(col["components"])),
            url=row.one(col["url"]) or None,
            line=row.line,
        )
