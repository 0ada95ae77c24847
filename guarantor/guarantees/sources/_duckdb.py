"""What the DuckDB sources share (`file` over data files, `duckdb` over a database file): DuckDB
locked down before any query runs, exactly one read-only statement, a timeout that interrupts the
query, and error messages without row data."""

from __future__ import annotations

import atexit
import functools
import json
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from guarantor import redact
from guarantor.guarantees.sources import allowed, base
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


def one_select(query: str, readers: bool = False) -> str:
    """The query, if DuckDB's parser sees exactly one SELECT in it (WITH, VALUES, FROM-first too)
    that calls only the functions of ``allowed`` (and, with ``readers``, DuckDB's readers of data
    files: external access is off, so they read only the files the source allows)."""
    import duckdb

    try:
        statements = duckdb.extract_statements(query)
    except duckdb.Error as exc:
        raise SourceError(message(exc, query)) from exc
    if len(statements) != 1:
        raise SourceError(f"the query holds {len(statements)} statements; a DuckDB indicator runs exactly one SELECT")
    kind = statements[0].type
    if kind != duckdb.StatementType.SELECT:
        raise SourceError(f"only a SELECT may run on a DuckDB source, not {kind.name}")
    why = allowed.refused(functions(query), allowed.DUCKDB | (allowed.FILE_READERS if readers else frozenset()))
    if why:
        raise SourceError(why)
    return query


_PARSER_LOCK = threading.Lock()


@functools.lru_cache(maxsize=4096)
def functions(query: str) -> tuple[str, ...]:
    """Every function a SELECT calls, by DuckDB's own parser (``json_serialize_sql``), schema-
    qualified where the query qualifies it; operators (``+``, ``~~``) are DuckDB's syntax, not
    calls. Kept per text: every check run asks it of every indicator."""
    import duckdb

    with _PARSER_LOCK:
        global _PARSER
        if _PARSER is None:
            _PARSER = duckdb.connect(":memory:", config=LOCKED_DOWN)
            lock(_PARSER)
            atexit.register(_PARSER.close)  # open at exit, DuckDB's bindings report a leak
        tree = json.loads(_PARSER.execute("SELECT json_serialize_sql(?)", [query]).fetchone()[0])  # type: ignore[index]
    if tree.get("error"):
        raise SourceError(f"the query could not be read as one SELECT: {tree.get('error_message', '')[:200]}")
    names: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("class") == "FUNCTION" and not node.get("is_operator"):
                qualifier = ".".join(p for p in (node.get("catalog"), node.get("schema")) if p)
                names.append(f"{qualifier}.{node['function_name']}" if qualifier else node["function_name"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(tree["statements"])
    return tuple(names)


_PARSER: duckdb.DuckDBPyConnection | None = None
"""An empty in-memory database, locked down like a source's, whose only use is DuckDB's parser."""


def check_query(spec: SourceSpec, query: str) -> str | None:
    try:
        one_select(query, readers=spec.type == "file")
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
        raise SourceError(message(exc, query)) from exc
    finally:
        timer.cancel()
        cursor.close()
    return base.rows_reading(rows[: base.MAX_ROWS], indicator, more=len(rows) > base.MAX_ROWS)


def message(exc: Any, query: str = "") -> str:
    """DuckDB's first line, without row data: a conversion error quotes the value it could not
    read, which would hand the contents of a file to whoever wrote the query; every quoted part
    the query does not hold is taken out (the whole message first: a quoted value may span lines)."""
    return redact.quoted(str(exc).strip() or type(exc).__name__, query).splitlines()[0]
