"""`sql`: any SQLAlchemy URL, read-only, with a timeout; the query returns one number
(or a number and the time it was true).

Whoever wrote the query, it can only read what the source's own database user can read, one
statement at a time:

* SQLite is opened read-only, and SQLite's authorizer allows nothing but reading (no ``ATTACH``,
  no ``PRAGMA``, no write), so a query cannot open another file, Guarantor's database included.
* PostgreSQL's own parser (pglast) must see exactly one SELECT that writes nothing and calls none
  of the server's file, program or connection functions; it then runs in a READ ONLY transaction
  with a statement timeout.
* Any other database: sqlglot must parse exactly one SELECT with no write in it.

A source whose URL is Guarantor's own database is refused.
"""

from __future__ import annotations

import functools
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any, Literal

from guarantor.guarantees.sources import base
from guarantor.guarantees.sources.base import Context, Reading, SourceError, SourceSpec, register
from guarantor.guarantees.spec import Indicator, Secret


class SqlSpec(SourceSpec):
    type: Literal["sql"]
    url: Secret


# Server functions that read or write the server's files, run programs, open connections or change
# settings: a SELECT may call them, so a role with the privilege would reach past its tables.
_PG_FORBIDDEN = frozenset(
    {
        "pg_read_file",
        "pg_read_binary_file",
        "pg_stat_file",
        "pg_ls_dir",
        "pg_ls_logdir",
        "pg_ls_waldir",
        "pg_ls_tmpdir",
        "pg_ls_archive_statusdir",
        "pg_file_write",
        "pg_file_rename",
        "pg_file_unlink",
        "lo_import",
        "lo_export",
        "lo_from_bytea",
        "lo_put",
        "lo_create",
        "lo_unlink",
        "dblink",
        "dblink_exec",
        "dblink_connect",
        "dblink_connect_u",
        "dblink_send_query",
        "set_config",
        "pg_reload_conf",
        "pg_rotate_logfile",
        "pg_terminate_backend",
        "pg_cancel_backend",
        "pg_logical_emit_message",
        "pg_create_restore_point",
        "pg_switch_wal",
    }
)
_SQLITE_READ_ONLY = {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_FUNCTION, sqlite3.SQLITE_RECURSIVE}


class SqlSource:
    def __init__(self, spec: SqlSpec, context: Context) -> None:
        # Imported here: the spec above is part of every workspace, the engine only of a check.
        from sqlalchemy import create_engine, event
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError, SQLAlchemyError
        from sqlalchemy.pool import NullPool

        try:
            url = make_url(base.reveal(spec.url))
        except ArgumentError as exc:
            raise SourceError(f"the url is not a database URL: {exc}") from exc
        self.dialect = url.get_backend_name()
        if _same_database(url, context):
            raise SourceError("this source's url is Guarantor's own database; a source may not read it")
        if self.dialect == "sqlite" and url.database and url.database != ":memory:":
            path = Path(url.database)
            path = path if path.is_absolute() else context.base_dir / path
            if not path.is_file():
                raise SourceError(f"no SQLite database at {path}")
            own = context.guarded_under(path)
            if own is not None:
                raise SourceError(f"{path} is part of Guarantor's own {own}; a source may not read it")
            # Read-only at the connection: the file cannot be written whatever the query says.
            url = url.set(database=f"file:{path}?mode=ro", query={"uri": "true"})
        connect_args: dict[str, Any] = {}
        if self.dialect == "postgresql":
            ms = int(spec.timeout.total_seconds() * 1000)
            connect_args["options"] = f"-c default_transaction_read_only=on -c statement_timeout={ms}"
            connect_args["connect_timeout"] = max(1, int(spec.timeout.total_seconds()))
        try:
            # No pool of the engine's: the source keeps its own idle connections, as many as ran at once.
            self.engine = create_engine(url, connect_args=connect_args, poolclass=NullPool)
        except (SQLAlchemyError, ImportError) as exc:
            raise SourceError(f"cannot use {url.render_as_string(hide_password=True)}: {exc}") from exc
        if self.dialect == "sqlite":
            event.listen(self.engine, "connect", _sqlite_read_only)
        self._idle: list[Any] = []  # the engine's connections between measurements, from any worker
        self._lock = threading.Lock()

    def measure(self, indicator: Indicator, timeout: float) -> Reading:
        """The query straight through the driver, on a connection kept between measurements: a
        SQLAlchemy connection and statement around each query cost 0.2 ms, more than most of the
        queries themselves, and held the interpreter's lock the other workers wait on."""
        from sqlalchemy.exc import SQLAlchemyError

        if self.dialect != "sqlite":
            _check_one_select(indicator.query_text, self.dialect)
        dbapi = self.engine.dialect.loaded_dbapi
        conn = None
        try:
            conn = self._borrow()
            rows = self._run(conn, indicator.query_text, timeout)
        except (SQLAlchemyError, dbapi.Error) as exc:
            if conn is not None:
                conn.invalidate()  # it may be the broken one
            if isinstance(exc, SQLAlchemyError | dbapi.OperationalError | dbapi.InterfaceError):
                self._forget_idle()  # a server restart broke them all: the retry connects anew
            raise SourceError(_message(exc, dbapi, timeout)) from exc
        with self._lock:
            self._idle.append(conn)
        return base.rows_reading(rows[: base.MAX_ROWS], indicator, more=len(rows) > base.MAX_ROWS)

    def _borrow(self) -> Any:
        with self._lock:
            if self._idle:
                return self._idle.pop()
        conn: Any = self.engine.raw_connection()
        if self.dialect == "postgresql":
            # On top of the session's default, as a second lock; the dialect knows its driver's way.
            dialect: Any = self.engine.dialect  # PostgreSQL's: set_readonly per driver
            dialect.set_readonly(conn.dbapi_connection, True)
        return conn

    def _run(self, conn: Any, query: str, timeout: float) -> list[Any]:
        raw = conn.driver_connection
        if self.dialect == "sqlite":
            deadline = time.monotonic() + timeout
            raw.set_progress_handler(lambda: int(time.monotonic() > deadline), 10_000)
        try:
            cursor = conn.cursor()
            try:
                cursor.execute(query)
                return list(cursor.fetchmany(base.MAX_ROWS + 1))
            finally:
                cursor.close()
        finally:
            if self.dialect == "sqlite":
                raw.set_progress_handler(None, 0)
            conn.rollback()

    def _forget_idle(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.invalidate()

    def close(self) -> None:
        self._forget_idle()
        self.engine.dispose()


def _message(exc: Exception, dbapi: Any, timeout: float) -> str:
    """The driver's own message, first line; values in it hidden where the value was the problem."""
    cause = getattr(exc, "orig", None) or exc
    full = str(cause).strip() or type(cause).__name__
    message = (base.redact(full) if isinstance(cause, dbapi.DataError) else full).splitlines()[0]
    if "interrupted" in message:
        return f"timed out after {timeout:g} s"
    if "not authorized" in message:
        return f"only reading is allowed on this source ({message})"
    return message


def _same_database(url: Any, context: Context) -> bool:
    if not context.database_url:
        return False
    from sqlalchemy.engine import make_url

    own = make_url(context.database_url)
    if url.get_backend_name() != own.get_backend_name() or url.get_backend_name() == "sqlite":
        return False  # SQLite files are compared by path, against every file of Guarantor's
    return (url.host or "localhost", url.port, url.database) == (own.host or "localhost", own.port, own.database)


def _sqlite_read_only(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.execute("PRAGMA busy_timeout=5000")
    dbapi_connection.set_authorizer(lambda action, *_: 0 if action in _SQLITE_READ_ONLY else sqlite3.SQLITE_DENY)


@functools.lru_cache(maxsize=4096)
def _check_one_select(query: str, dialect: str) -> None:
    """Refuse anything but one SELECT, by the database's own grammar where we have it. The verdict
    on a text is kept (a refusal, raised, is not): every check run asks it of every indicator, and
    parsing took 0.15 ms of the 1.3 ms a PostgreSQL evaluation cost beyond its query."""
    if dialect == "postgresql":
        _check_postgres(query)
        return
    _check_sqlglot(query, dialect, lenient=False)


def _check_sqlglot(query: str, dialect: str, lenient: bool) -> None:
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import SqlglotError

    try:
        statements = [s for s in sqlglot.parse(query, read=_SQLGLOT.get(dialect)) if s]
        nodes = [node for statement in statements for node in statement.walk()]
    except (SqlglotError, RecursionError) as exc:  # sqlglot recurses once per level of nesting
        if lenient:
            return
        reason = "it is nested too deeply" if isinstance(exc, RecursionError) else str(exc).splitlines()[0]
        raise SourceError(f"the query could not be read as one SELECT: {reason}") from exc
    if len(statements) != 1:
        raise SourceError(f"the query holds {len(statements)} statements; an indicator runs exactly one SELECT")
    writes = (exp.Insert, exp.Update, exp.Delete, exp.Merge, exp.Create, exp.Drop, exp.Command, exp.Into)
    if not isinstance(statements[0], exp.Query) or any(isinstance(n, writes) for n in nodes):
        raise SourceError("only a SELECT that writes nothing may run on a sql source")


def _check_postgres(query: str) -> None:
    from pglast import ast, parse_sql
    from pglast.parser import ParseError
    from pglast.visitors import Visitor

    try:
        statements = parse_sql(query)
    except ParseError as exc:
        raise SourceError(f"the query is not valid PostgreSQL: {exc}") from exc
    if len(statements) != 1:
        raise SourceError(f"the query holds {len(statements)} statements; an indicator runs exactly one SELECT")
    stmt = statements[0].stmt
    if not isinstance(stmt, ast.SelectStmt):
        raise SourceError(f"only a SELECT may run on a sql source, not {type(stmt).__name__.removesuffix('Stmt')}")

    class Check(Visitor):
        def visit_SelectStmt(self, _ancestors: Any, node: Any) -> None:
            if node.intoClause is not None or node.lockingClause:
                raise SourceError("only a SELECT that writes and locks nothing may run on a sql source")

        def visit_CommonTableExpr(self, _ancestors: Any, node: Any) -> None:
            if not isinstance(node.ctequery, ast.SelectStmt):
                raise SourceError("a WITH clause may only read (no INSERT, UPDATE or DELETE in it)")

        def visit_FuncCall(self, _ancestors: Any, node: Any) -> None:
            name = node.funcname[-1].sval.lower()
            if name in _PG_FORBIDDEN:
                raise SourceError(f"{name}() reaches past the database's tables; it may not run on a sql source")

    Check()(stmt)


_SQLGLOT = {
    name: name for name in ("mysql", "oracle", "duckdb", "snowflake", "bigquery", "redshift", "trino", "clickhouse")
} | {"mssql": "tsql", "mariadb": "mysql", "sqlite": "sqlite"}
"""sqlglot's dialect for a SQLAlchemy backend name; others are read as generic SQL."""


def _check_query(spec: SqlSpec, query: str) -> str | None:
    """Before anything runs: PostgreSQL's own parser when the URL is written out; otherwise sqlglot,
    refusing only what it reads as a write or as several statements (SQL it cannot parse is left to
    the database and the checks made when the query runs)."""
    dialect = None
    if isinstance(spec.url, str):
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            dialect = make_url(spec.url).get_backend_name()
        except ArgumentError:
            return None
    try:
        if dialect == "postgresql":
            _check_postgres(query)
        else:
            _check_sqlglot(query, dialect or "", lenient=True)
    except SourceError as exc:
        return str(exc)
    return None


register("sql", SqlSpec, _check_query, example=base.sql_example)(SqlSource)
