"""A Linear CSV export (Settings > Import/export > Export CSV)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from guarantor.work.importers.base import Item, csv_rows, parse_number, parse_time, split_list


def read(path: Path) -> Iterator[Item]:
    for row in csv_rows(path, ("ID", "Title"), "a Linear CSV export"):
        completed = parse_time(row.one("Completed"), row.where("Completed"))
        canceled = parse_time(row.one("Canceled"), row.where("Canceled"))
        yield Item(
            source="linear",
            external_id=row.required("ID"),
            title=row.required("Title"),
            body=row.one("Description"),
            state=row.one("Status"),
            closed=completed is not None or canceled is not None,
            created_at=parse_time(row.one("Created"), row.where("Created")),
            started_at=parse_time(row.one("Started"), row.where("Started")),
            closed_at=completed or canceled,
            labels=split_list(row.one("Labels")),
            assignee=row.one("Assignee") or None,
            estimate=parse_number(row.one("Estimate"), row.where("Estimate")),
            epic=row.one("Project") or None,
            links=[row.one("Parent issue")] if row.one("Parent issue") else [],
            line=row.line,
        )
