"""The normalised work item every importer produces, and what importers share."""

from __future__ import annotations

import atexit
import hashlib
import operator
import re
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache, cached_property
from pathlib import Path
from typing import IO, Any

from guarantor.errors import InputError
from guarantor.inputs import dates
from guarantor.inputs.dates import DateOrder
from guarantor.inputs.lines import TextLines, csv_reader


@dataclass
class Item:
    source: str  # the format's name (its importer module's), or the tracker a sync read
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
    sprint: str | None = None  # the latest sprint or cycle it was in
    components: list[str] = field(default_factory=list)
    url: str | None = None
    links: list[str] = field(default_factory=list)  # external ids of related items
    line: int = 0  # where it starts in the file: not stored, used in errors

    def content_hash(self) -> str:
        """Changes when anything stored changes: a re-import of the same export updates nothing.
        The repr of a tuple of plain values is deterministic, and far cheaper than a JSON dump."""
        return hashlib.sha256(repr(_hashed(self)).encode()).hexdigest()[:32]


_hashed = operator.attrgetter(*(f for f in Item.__dataclass_fields__ if f != "line"))
"""The stored fields of an item as one tuple, in the order of their declaration."""

MAX_ESTIMATE = 1_000_000.0


def parse_time(raw: str | None, where: str, order: DateOrder | None = None) -> datetime | None:
    """A date in any form ``inputs.dates`` reads, in UTC; None for an empty cell."""
    return dates.parse(raw or "", order or DateOrder(), where)


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

    def first(self, names: Sequence[str]) -> tuple[str, str]:
        """The first non-empty cell among ``names``, with its column ("" and the first name when none)."""
        for name in names:
            if value := self.one(name):
                return value, name
        return "", names[0] if names else ""

    def listed(self, names: Sequence[str]) -> list[str]:
        """The values of cells that hold a list ("backend, payments"), every cell under ``names``."""
        return [part for cell in self.gather(names) for part in split_list(cell)]

    def text(self, names: Sequence[str]) -> str:
        return self.first(names)[0]

    def number(self, names: Sequence[str]) -> float | None:
        """The first non-empty cell among ``names`` as an estimate (``parse_number``)."""
        value, name = self.first(names)
        return parse_number(value, self.where(name)) if value else None

    def gather(self, names: Sequence[str]) -> list[str]:
        """Every non-empty cell under any of ``names``, each value once, in order."""
        if len(names) == 1 and (where := self.columns.get(names[0])) and len(where) == 1:  # one cell: most exports
            value = self.cells[where[0]].strip()
            return [value] if value else []
        return list(dict.fromkeys(v for name in names for v in self.many(name))) if names else []

    def where(self, name: str) -> str:
        return f"{self.path}:{self.line}: {name}"

    def required(self, name: str) -> str:
        value = self.one(name)
        if not value:
            raise InputError(f"{self.where(name)}: empty")
        return value


@dataclass(frozen=True)
class Columns:
    """Which columns of an export each field is read from (in the order tried), and the columns no
    field reads: printed after an import, so a person sees at once why items have no epic."""

    read: dict[str, tuple[str, ...]]
    unread: tuple[str, ...]

    def missing(self) -> list[str]:
        return [name for name, found in self.read.items() if not found]


def lines_of(path: Path) -> TextLines:
    """A CSV export's lines, from the start each time: one is read more than once (its header, the
    order of its dates, its rows), standard input too, through a copy in a temporary file."""
    if str(path) != "-":
        return TextLines(path)
    copy = _stdin_copy(sys.stdin.buffer)
    copy.seek(0)
    return TextLines(path, stdin=copy)


@cache
def _stdin_copy(stdin: IO[bytes]) -> IO[bytes]:
    copy = tempfile.TemporaryFile()  # noqa: SIM115 - kept open for the process: stdin is read once
    atexit.register(copy.close)  # closed, not left to the garbage collector at shutdown
    shutil.copyfileobj(stdin, copy)
    return copy


def header(path: Path) -> list[str]:
    """The header of a CSV file, stripped; empty for an empty file."""
    with lines_of(path) as lines:
        return [name.strip() for name in next(csv_reader(lines, lines), [])]


def columns_of(names: Sequence[str], fields: Mapping[str, Sequence[str]]) -> Columns:
    present = set(names)
    read = {field: tuple(c for c in candidates if c in present) for field, candidates in fields.items()}
    used = {c for found in read.values() for c in found}
    return Columns(read, tuple(dict.fromkeys(n for n in names if n and n not in used)))


class FileDates:
    """The dates of one CSV file. A numeric date that can be read day first or month first makes it
    read every date of the file once to learn the order (``DateOrder.learn``); files without one,
    most of them, are read once."""

    def __init__(self, path: Path, columns: Sequence[str], order: DateOrder) -> None:
        self.path, self.columns, self.order = path, columns, order
        self.learned = order.fmt is not None or order.day_first is not None

    def __call__(self, row: Row, names: Sequence[str]) -> datetime | None:
        value, name = row.first(names)
        if not value:
            return None
        try:
            return dates.parse(value, self.order, row.where(name))
        except dates.AmbiguousDate:
            if self.learned:
                raise
            self.learned = True
            self.order.learn(other.one(c) for other in csv_rows(self.path, (), "a CSV") for c in self.columns)
            return dates.parse(value, self.order, row.where(name))


_USUAL: dict[str, Callable[[Row, Sequence[str], FileDates], object]] = {
    "body": lambda row, names, _when: row.text(names),
    "state": lambda row, names, _when: row.text(names),
    "created_at": lambda row, names, when: when(row, names),
    "started_at": lambda row, names, when: when(row, names),
    "closed_at": lambda row, names, when: when(row, names),
    "labels": lambda row, names, _when: row.listed(names),
    "assignee": lambda row, names, _when: row.text(names) or None,
    "estimate": lambda row, names, _when: row.number(names),
    "epic": lambda row, names, _when: row.text(names) or None,
    "sprint": lambda row, names, _when: row.text(names) or None,
    "components": lambda row, names, _when: row.gather(names),
    "url": lambda row, names, _when: row.text(names) or None,
    "links": lambda row, names, _when: row.gather(names),
}
"""How a CSV export's field is read when its format has no reason to read it otherwise."""


@dataclass(frozen=True)
class RowItems:
    """How the records of one CSV export become items: its format's name, the columns found for
    each field, and the file's dates."""

    source: str
    columns: Mapping[str, Sequence[str]]
    when: FileDates

    @cached_property
    def _usual(self) -> list[tuple[str, Callable[[Row, Sequence[str], FileDates], object], Sequence[str]]]:
        """The fields read the usual way that the export has columns for, found once per file."""
        return [(name, usual, names) for name, usual in _USUAL.items() if (names := self.columns.get(name))]

    def __call__(self, row: Row, **given: Any) -> Item:
        """The item of one record: ``given`` holds the fields its format reads its own way (at least
        ``external_id`` and ``title``); every other field is read the usual way from the columns
        found for it, and is left to ``Item``'s default, the same empty value, where the export has
        none: most exports lack most fields, and reading nothing for each cost 5% of an import."""
        for name, usual, names in self._usual:
            if name not in given:
                given[name] = usual(row, names, self.when)
        return Item(source=self.source, line=row.line, **given)


def csv_rows(path: Path, required: Sequence[str], what: str) -> Iterator[Row]:
    """The records of a CSV file, checking the header has the ``required`` columns."""
    with lines_of(path) as lines:
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
        width = len(header)
        for cells in records:
            if "".join(cells).strip():  # a blank record is skipped: one join, not a strip per cell
                if len(cells) != width:
                    if len(cells) > width:
                        raise InputError(f"{shown}:{line}: {len(cells)} fields, the header has {width}")
                    cells += [""] * (width - len(cells))
                yield Row(shown, line, columns, cells)
            line = lines.line + 1


def split_list(cell: str) -> list[str]:
    if "," not in cell and ";" not in cell:  # one value, as in most cells: no regular expression
        return [value] if (value := cell.strip()) else []
    return [part.strip() for part in _SEPARATORS.split(cell) if part.strip()]


_SEPARATORS = re.compile(r"[,;]")
