"""What every source shares: its reading, its errors, secrets from the environment, the registry."""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field

from guarantor import redact
from guarantor.errors import ExitCode, GuarantorError
from guarantor.guarantees.spec import Duration, EnvRef, Indicator, Secret


class SourceError(GuarantorError, exit_code=ExitCode.SOURCE_ERROR, http_status=502, code="source_error"):
    """The source failed (did not answer, refused, returned something that is not a number). Inside
    a check it makes its indicator ERROR; anywhere else it is the command's error, exit 13."""


class MissingSecret(SourceError):
    """A source's secret names an environment variable that is not set: the source cannot be used."""

    def __init__(self, name: str) -> None:
        super().__init__(f"environment variable {name} is not set")
        self.name = name


class SourceSpec(BaseModel):
    """What every source's spec is: strict (an unknown field is an error at its line, not ignored)
    and frozen (a spec is hashed to key its measurements). ``type`` names the registered kind."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    type: str
    timeout: Duration = Field(timedelta(seconds=30), description="How long one measurement may take.")


def reveal(secret: Secret) -> str:
    if isinstance(secret, EnvRef):
        value = os.environ.get(secret.env)
        if value is None:
            raise MissingSecret(secret.env)
        return redact.remember(value)
    return redact.remember(secret)


def env_refs(model: BaseModel) -> list[tuple[tuple[str | int, ...], str]]:
    """Every (path, variable) a spec reads from the environment, to check before anything runs."""
    out: list[tuple[tuple[str | int, ...], str]] = []

    def walk(value: Any, path: tuple[str | int, ...]) -> None:
        if isinstance(value, EnvRef):
            out.append((path, value.env))
        elif isinstance(value, BaseModel):
            for name in type(value).model_fields:
                walk(getattr(value, name), (*path, name))
        elif isinstance(value, dict):
            for k, v in value.items():
                walk(v, (*path, k))
        elif isinstance(value, list):
            for i, v in enumerate(value):
                walk(v, (*path, i))

    walk(model, ())
    return out


@dataclass(frozen=True)
class Reading:
    """What a source returned: a number (and when it was true), or None with why there is no data."""

    value: Decimal | None
    at: datetime | None = None
    no_data: str = ""


@dataclass(frozen=True)
class Context:
    """Where the workspace file is (relative paths start there), whether commands may run, and what
    of Guarantor's own no source may reach: its home folder and its database."""

    base_dir: Path
    allow_command: bool
    home: Path | None = None
    database_url: str | None = None
    max_timeout_s: float = 60.0  # the admin's cap on any measurement, whatever an indicator asks

    @classmethod
    def of(
        cls, base_dir: Path, allow_command: bool, home: Path, database_url: str, max_timeout_s: float = 60.0
    ) -> Context:
        return cls(base_dir.resolve(), allow_command, home.expanduser().resolve(), database_url, max_timeout_s)

    def timeout(self, asked: timedelta) -> float:
        """Seconds one measurement may take: what the indicator or source asks, at most the cap."""
        return min(asked.total_seconds(), self.max_timeout_s)

    def own_files(self) -> list[tuple[Path, str]]:
        files = [(self.home, "home folder")] if self.home is not None else []
        database = sqlite_path(self.database_url) if self.database_url else None
        return files + ([(database, "database")] if database is not None else [])

    def guarded_under(self, place: Path) -> str | None:
        """What of Guarantor's own lies in ``place`` (or holds it), if anything."""
        place = place.resolve()
        for path, what in self.own_files():
            if path == place or path.is_relative_to(place) or place.is_relative_to(path) or _same_file(path, place):
                return f"{what} ({path})"
        return None


def _same_file(own: Path, place: Path) -> bool:
    """Whether ``place`` is ``own`` (or its journal) by the file itself, device and inode: a hard
    link to Guarantor's database has another name and the same data."""
    for name in (own, own.with_name(own.name + "-wal"), own.with_name(own.name + "-journal")):
        try:
            if os.path.samefile(name, place):
                return True
        except OSError:  # either is missing: not the same file
            continue
    return False


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL (None for another database or an in-memory one)."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    name = parsed.database.removeprefix("file:").split("?", 1)[0]
    return Path(name).expanduser().resolve()


def to_decimal(raw: Any, what: str) -> Decimal | None:
    if raw is None:
        return None
    if isinstance(raw, bool):
        raise SourceError(f"{what} is a boolean, not a number")
    if isinstance(raw, float) and math.isnan(raw):
        return None
    try:
        value = Decimal(str(raw).strip())
    except InvalidOperation:  # what kind of value, never the value: it may be anyone's data
        raise SourceError(f"{what} is {_kind(raw)}, not a number") from None
    if value.is_nan():
        return None
    if not value.is_finite():
        raise SourceError(f"{what} is infinite, not a finite number")
    return value


def _kind(raw: Any) -> str:
    """What kind of value came back, in words ("text of 5 characters"), without the value."""
    if isinstance(raw, str):
        return f"text of {len(raw):,} characters" if raw.strip() else "empty text"
    if isinstance(raw, bytes | bytearray | memoryview):
        return "binary data"
    if isinstance(raw, datetime):
        return "a time"
    if isinstance(raw, list | tuple | dict):
        return "a list or object"
    return f"a value of type {type(raw).__name__}"


def to_time(raw: Any) -> datetime | None:
    if raw is None:
        return None
    if isinstance(raw, datetime):
        return raw.replace(tzinfo=UTC) if raw.tzinfo is None else raw.astimezone(UTC)
    if isinstance(raw, int | float | Decimal):
        try:
            return datetime.fromtimestamp(float(raw), UTC)
        except (OverflowError, OSError, ValueError):
            raise SourceError("the time column holds a number too large for epoch seconds") from None
    try:
        parsed = datetime.fromisoformat(str(raw))
    except ValueError:
        raise SourceError(f"the time column holds {_kind(raw)}, not an ISO 8601 time or epoch seconds") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


MAX_ROWS = 100_000
"""Rows a query may return when they are reduced to one value; more is an error (aggregate in SQL)."""
REDUCERS = "sum, avg, min, max, count, first or last"


def reduce_values(
    pairs: Sequence[tuple[Decimal | None, datetime | None]], how: str | None, what: str, many: str
) -> Reading:
    """One reading from several (value, time) pairs: exactly one unless ``how`` says how to reduce
    them; the time is the newest one given. ``what`` names the result ("the query"), ``many`` its
    items ("rows")."""
    if not pairs:
        return Reading(None, no_data=f"{what} returned no {many}")
    if len(pairs) > 1 and how is None:
        raise SourceError(
            f"{what} returned {len(pairs):,} {many}; an indicator needs exactly one value: return one, or "
            f"declare reduce: {REDUCERS}"
        )
    times = [t for _, t in pairs if t is not None]
    newest = max(times) if times else None
    if how in (None, "first", "last"):
        value, at = pairs[-1] if how == "last" else pairs[0]
        return Reading(value, at, no_data="" if value is not None else f"{what} returned NULL")
    if how == "count":
        return Reading(Decimal(len(pairs)), newest)
    numbers = [v for v, _ in pairs if v is not None]
    if not numbers:
        return Reading(None, newest, no_data=f"all {len(pairs):,} values {what} returned are NULL")
    reduced = {
        "sum": lambda: sum(numbers, Decimal(0)),
        "avg": lambda: sum(numbers, Decimal(0)) / len(numbers),
        "min": lambda: min(numbers),
        "max": lambda: max(numbers),
    }[how]()
    return Reading(reduced, newest)


def rows_reading(rows: Sequence[Sequence[Any]], indicator: Indicator, more: bool = False) -> Reading:
    """A query's rows as one reading: the first column is the value and an optional second the time
    it was true. A freshness-only indicator needs only a time: the second column, or the first when
    it is a time. No row, or NULL, is no data, never a pass."""
    if more:
        raise SourceError(f"the query returned more than {MAX_ROWS:,} rows; aggregate them in the query")
    pairs: list[tuple[Decimal | None, datetime | None]] = []
    for row in rows:
        if indicator.freshness_only:
            first_is_time = len(row) == 1 and isinstance(row[0], datetime | str)
            pairs.append((Decimal(0), to_time(row[1] if len(row) > 1 else row[0] if first_is_time else None)))
        else:
            pairs.append((to_decimal(row[0], "the query's first column"), to_time(row[1]) if len(row) > 1 else None))
    return reduce_values(pairs, indicator.reduce, "the query", "rows")


class Source(Protocol):
    def measure(self, indicator: Indicator, timeout: float) -> Reading: ...

    def close(self) -> None: ...


Factory = Callable[[Any, Context], Source]
QueryCheck = Callable[[Any, str], "str | None"]
IndicatorCheck = Callable[[Indicator], "list[tuple[str | None, str]]"]
Example = Callable[[bool], dict[str, str]]
"""A starting indicator on such a source, for a share (True) or a duration: its ``query`` and any
other field the kind reads (``jsonpath``), with placeholders in capitals."""
PATH_FIELDS = ("jsonpath", "jmespath", "time_path")
"""The indicator fields only some kinds read (``Kind.fields``); the others refuse them at their line."""


def _unread(ind: Indicator, fields: tuple[str, ...]) -> list[tuple[str | None, str]]:
    """The path fields an indicator sets that its kind does not read, each named with the kinds that do."""
    problems: list[tuple[str | None, str]] = []
    for f in PATH_FIELDS:
        if f not in fields and getattr(ind, f) is not None:
            readers = " or ".join(name for name, kind in REGISTRY.items() if f in kind.fields) or "no"
            problems.append((f, f"only {readers} indicators take {f}"))
    return problems


@dataclass(frozen=True)
class Kind:
    """A source type: its spec model (``type: name``), a factory of implementations, the checks that
    can be made before anything runs (when the workspace is validated, so a query or an indicator a
    source would refuse is refused at its line, and a web edit holding one is never stored), and
    what it can do, which decides who may set it (``runs_programs``: only a file on disk)."""

    spec: type[SourceSpec]
    factory: Factory
    check_query: QueryCheck
    check_indicator: IndicatorCheck
    runs_programs: bool = False
    reaches_network: bool = False
    example: Example | None = None  # None: `outcome suggest-indicator` proposes no query on it
    fields: tuple[str, ...] = ()  # of PATH_FIELDS, those this kind reads (the web's form offers them)


REGISTRY: dict[str, Kind] = {}


def register(
    name: str,
    spec: type[SourceSpec],
    check_query: QueryCheck | None = None,
    *,
    check_indicator: IndicatorCheck | None = None,
    runs_programs: bool = False,
    reaches_network: bool = False,
    example: Example | None = None,
    fields: tuple[str, ...] = (),
) -> Callable[[Factory], Factory]:
    """Register a source type under ``name``. ``check_query(spec, query)`` says why a query cannot
    run on such a source, or None; ``check_indicator(indicator)`` lists (field, problem) of the
    indicator's other fields. Path fields the kind does not list in ``fields`` are refused either way."""

    def check(ind: Indicator) -> list[tuple[str | None, str]]:
        return _unread(ind, fields) + (check_indicator(ind) if check_indicator else [])

    def decorate(factory: Factory) -> Factory:
        REGISTRY[name] = Kind(
            spec,
            factory,
            check_query or (lambda _spec, _query: None),
            check,
            runs_programs,
            reaches_network,
            example,
            fields,
        )
        return factory

    return decorate


def sql_example(share: bool) -> dict[str, str]:
    """A starting query in SQL, with the time column that makes the value's time known."""
    measure = "100.0 * avg(CASE WHEN CONDITION THEN 1 ELSE 0 END)" if share else "avg(DURATION_IN_UNIT)"
    return {"query": f"SELECT {measure}, max(TIME_COLUMN) FROM TABLE", "fresh_within": "1d"}


def runs_programs(source_type: str) -> bool:
    """Whether a source of this type runs programs on the server: only the file on disk may set one."""
    return REGISTRY[source_type].runs_programs
