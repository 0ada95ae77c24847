"""The normalised work item every importer produces, and what importers share."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from guarantor.clock import MAX_YEAR, MIN_YEAR
from guarantor.errors import InputError
from guarantor.inputs.lines import TextLines, csv_reader


@dataclass
class Item:
    source: str  # github | jira | linear | csv
    external_id: str
    title: str
    kind: str = "issue"
    body: str = ""
    state: str = ""
    closed: bool = False
    created_at: datetime | None = None
    started_at: datetime | None = None
    closed_at: datetime | None = None
    labels: list[str] = field(default_factory=list)
    assignee: str | None = None
    estimate: float | None = None
    epic: str | None = None
    components: list[str] = field(default_factory=list)
    url: str | None = None
    links: list[str] = field(default_factory=list)  # external ids of related items
    line: int = 0  # where it starts in the file: not stored, used in errors

    def content_hash(self) -> str:
        """Changes when anything stored changes: a re-import of the same export updates nothing.
        The repr of a tuple of plain values is deterministic, and far cheaper than a JSON dump."""
        stored = tuple(getattr(self, f) for f in _HASHED)
        return hashlib.sha256(repr(stored).encode()).hexdigest()[:32]


_HASHED = tuple(f for f in Item.__dataclass_fields__ if f != "line")

_DATE_FORMATS = (
    "%d/%b/%y %I:%M %p",  # Jira's default: 21/Nov/26 10:15 AM
    "%d/%b/%Y %I:%M %p",
    "%d/%b/%y %H:%M",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y",
)


MAX_ESTIMATE = 1_000_000.0


def parse_time(raw: str | None, where: str) -> datetime | None:
    """ISO 8601 (with Z), epoch-free; Jira's and a few common formats; UTC when no zone is given."""
    if raw is None or not str(raw).strip():
        return None
    text = str(raw).strip()
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        for fmt in _DATE_FORMATS:
            try:
                parsed = datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
        else:
            raise InputError(f"{where}: {text[:60]!r} is not a date (ISO 8601 or Jira's 21/Nov/26 10:15 AM)") from None
    if not MIN_YEAR <= parsed.year <= MAX_YEAR:
        raise InputError(f"{where}: {text[:60]!r} is outside the years {MIN_YEAR} to {MAX_YEAR}")
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def parse_number(raw: str | None, where: str) -> float | None:
    """An estimate (story points, hours): a finite number from 0 up to a million."""
    if raw is None or not str(raw).strip():
        return None
    try:
        value = float(str(raw).strip())
    except ValueError:
        raise InputError(f"{where}: {str(raw)[:60]!r} is not a number") from None
    if not 0 <= value <= MAX_ESTIMATE:  # also refuses inf and nan
        raise InputError(f"{where}: {str(raw)[:60]!r} is not an estimate between 0 and {MAX_ESTIMATE:,.0f}")
    return value


class Row:
    """One CSV record addressed by column name; a name the header repeats (Jira's ``Labels``,
    ``Component/s``) gathers every cell under it."""

    def __init__(self, path: Path, line: int, columns: dict[str, list[int]], cells: list[str]) -> None:
        self.path, self.line, self.columns, self.cells = path, line, columns, cells

    def one(self, name: str) -> str:
        where = self.columns.get(name)
        if not where:
            return ""
        if len(where) == 1:
            return self.cells[where[0]].strip()
        return next((self.cells[i].strip() for i in where if self.cells[i].strip()), "")

    def many(self, name: str) -> list[str]:
        return [self.cells[i].strip() for i in self.columns.get(name, []) if self.cells[i].strip()]

    def where(self, name: str) -> str:
        return f"{self.path}:{self.line}: {name}"

    def required(self, name: str) -> str:
        value = self.one(name)
        if not value:
            raise InputError(f"{self.where(name)}: empty")
        return value


def csv_rows(path: Path, required: Sequence[str], what: str) -> Iterator[Row]:
    """The records of a CSV file, checking the header has the ``required`` columns."""
    with TextLines(path) as lines:
        shown = Path(lines.name)
        records = csv_reader(lines, lines)
        header = next(records, None)
        if header is None:
            raise InputError(f"{shown}:1: the file is empty")
        columns: dict[str, list[int]] = {}
        for i, name in enumerate(header):
            columns.setdefault(name.strip(), []).append(i)
        missing = [c for c in required if c not in columns]
        if missing:
            raise InputError(f"{shown}:1: no {', '.join(map(repr, missing))} column: is this {what}?")
        line = lines.line + 1
        for cells in records:
            if any(cell.strip() for cell in cells):
                if len(cells) > len(header):
                    raise InputError(f"{shown}:{line}: {len(cells)} fields, the header has {len(header)}")
                yield Row(shown, line, columns, cells + [""] * (len(header) - len(cells)))
            line = lines.line + 1


def split_list(cell: str) -> list[str]:
    return [part.strip() for part in re.split(r"[,;]", cell) if part.strip()]
