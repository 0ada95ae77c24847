"""The normalised work item every importer produces, and what importers share."""

from __future__ import annotations

import csv
import hashlib
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from guarantor.errors import InputError, NotFound

csv.field_size_limit(1 << 26)


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
            raise InputError(f"{where}: {text!r} is not a date (ISO 8601 or Jira's 21/Nov/26 10:15 AM)") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def parse_number(raw: str | None, where: str) -> float | None:
    if raw is None or not str(raw).strip():
        return None
    try:
        return float(str(raw).strip())
    except ValueError:
        raise InputError(f"{where}: {raw!r} is not a number") from None


def open_text(path: Path):  # type: ignore[no-untyped-def]
    try:
        return path.open(newline="", encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise NotFound(f"{path}: no such file.") from exc


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
    with open_text(path) as handle:
        reader = csv.reader(handle)
        try:
            header = next(reader)
        except StopIteration:
            raise InputError(f"{path}:1: the file is empty") from None
        except csv.Error as exc:
            raise InputError(f"{path}:1: {exc}") from exc
        columns: dict[str, list[int]] = {}
        for i, name in enumerate(header):
            columns.setdefault(name.strip(), []).append(i)
        missing = [c for c in required if c not in columns]
        if missing:
            raise InputError(f"{path}:1: no {', '.join(map(repr, missing))} column: is this {what}?")
        line = reader.line_num + 1
        try:
            for cells in reader:
                if any(cell.strip() for cell in cells):
                    if len(cells) > len(header):
                        raise InputError(f"{path}:{line}: {len(cells)} fields, the header has {len(header)}")
                    yield Row(path, line, columns, cells + [""] * (len(header) - len(cells)))
                line = reader.line_num + 1
        except csv.Error as exc:
            raise InputError(f"{path}:{reader.line_num}: {exc}") from exc
        except UnicodeDecodeError as exc:
            raise InputError(f"{path}: not UTF-8 text ({exc.reason})") from exc


def split_list(cell: str) -> list[str]:
    return [part.strip() for part in re.split(r"[,;]", cell) if part.strip()]
