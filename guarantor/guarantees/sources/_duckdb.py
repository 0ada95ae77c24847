"""What the DuckDB sources share (`file` over data files, `duckdb` over a database file): DuckDB
locked down before any query runs, exactly one read-only statement, a timeout that interrupts the
query, and error messages without row data."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from guarantor.guarantees.sources import base
from guarantor.guarantees.sources.base import Reading, SourceError, SourceSpec
from guarantor.guarantees.spec import Indicator

if TYPE_CHECKING:
    import duckdb

LOCKED_DOWN: dict[str, str | bool | int | float | list[str]] = {
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "allow_community_extensions": False,
    "allow_unsigned_extensions": False,
}
"""No extension is installed or loaded: an extension could reach the network or other files."""


def lock(conn: duckdb.DuckDBPyConnection) -> None:
    """External access off (what was allowed before stays allowed), no spilling to disk, and the
    configuration locked, so no query can turn any of it back on."""
    conn.execute("SET temp_directory = ''")
    conn.execute("SET enable_external_access = false")
    conn.execute("SET lock_configuration = true")


def resolve(path: str, base_dir: Path) -> Path:
    p = Path(path).expanduser()
    return (p if p.is_absolute() else base_dir / p).resolve()


def one_select(query: str) -> str:
    """The query, if DuckDB's parser sees exactly one SELECT in it (WITH, VALUES, FROM-first too)."""
    import duckdb

    try:
        statements = duckdb.extract_statements(query)
    except duckdb.Error as exc:
        raise SourceError(message(exc)) from exc
    if len(statements) != 1:
        raise SourceError(f"the query holds {len(statements)} statements; a DuckDB indicator runs exactly one SELECT")
    kind = statements[0].type
    if kind != duckdb.StatementType.SELECT:
        raise SourceError(f"only a SELECT may run on a DuckDB source, not {kind.name}")
    return query


def check_query(_spec: SourceSpec, query: str) -> str | None:
    try:
        one_select(query)
    except SourceError as exc:
        return str(exc)
    return None


def select(conn: duckdb.DuckDBPyConnection, query: str, indicator: Indicator, timeout: float) -> Reading:
    """Run the query on a cursor of its own (DuckDB's way to share a connection between threads),
    interrupted after ``timeout`` seconds."""
    import duckdb

    cursor = conn.cursor()
    timer = threading.Timer(timeout, cursor.interrupt)
    try:
        timer.start()
        rows = cursor.execute(query).fetchmany(base.MAX_ROWS + 1)
    except duckdb.InterruptException as exc:
        raise SourceError(f"timed out after {timeout:g} s") from exc
    except duckdb.Error as exc:
        raise SourceError(message(exc)) from exc
    finally:
        timer.cancel()
        cursor.close()
    return base.rows_reading(rows[: base.MAX_ROWS], indicator, more=len(rows) > base.MAX_ROWS)


def message(exc: Any) -> str:
    """DuckDB's first line, without row data: a conversion error quotes the value it could not read,
    which would hand the contents of a file to whoever wrote the query."""
    import duckdb

    text = str(exc).strip() or type(exc).__name__
    if isinstance(exc, duckdb.ConversionException | duckdb.InvalidInputException | duckdb.OutOfRangeException):
        text = base.redact(text)  # the whole message first: a quoted value may span lines
    return text.splitlines()[0]
