"""`sql`: any SQLAlchemy URL, read-only, with a timeout; the query returns one number
(or a number and the time it was true).

Whoever wrote the query, it can only read what the source's own database user can read, one
statement at a time, calling only the functions of ``allowed`` (aggregates, arithmetic, string,
date and window functions, casts):

* SQLite is opened read-only, and SQLite's authorizer allows nothing but reading (no ``ATTACH``,
  no ``PRAGMA``, no write) and no function off the allowlist, so a query cannot open another file,
  Guarantor's database included, or load code.
* PostgreSQL's own parser (pglast) must see exactly one SELECT built of allowed syntax that calls
  only allowed functions and casts; it then runs in a READ ONLY transaction with a statement
  timeout, through a role that may not be a superuser or read the server's files unless the
  source names it under ``privileged_role``.
* Any other database: sqlglot must parse exactly one SELECT with no write in it, calling only
  allowed functions.

A source whose URL is Guarantor's own database is refused.
"""

from __future__ import annotations

import functools
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from guarantor import redact
from guarantor.guarantees.sources import allowed, base
from guarantor.guarantees.sources.base import Context, Reading, SourceError, SourceSpec, register
from guarantor.guarantees.spec import Indicator, Secret


class SqlSpec(SourceSpec):
    type: Literal["sql"]
    url: Secret
    privileged_role: str | None = Field(
        None,
        description="PostgreSQL: the role the source may connect as although it is a superuser or may read or "
        "write the server's files or run programs there. Without it such a role is refused: connect as a role "
        "that can only read the tables the indicators need.",
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
        if url.password:
            redact.remember(str(url.password))
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
        ours = make_url(context.database_url) if context.database_url else None
        # PostgreSQL's: asked on the first connection whether this source is the same database
        self._own_url = context.database_url if ours and ours.get_backend_name() == "postgresql" else None
        self._privileged_role = spec.privileged_role
        self._vetted = False  # PostgreSQL: the server and role checked on the first connection

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
            raise SourceError(_message(exc, timeout, indicator.query_text)) from exc
        with self._lock:
            self._idle.append(conn)
        return base.rows_reading(rows[: base.MAX_ROWS], indicator, more=len(rows) > base.MAX_ROWS)

    def _borrow(self) -> Any:
        with self._lock:
            if self._idle:
                return self._idle.pop()
        conn: Any = self.engine.raw_connection()
        if self.dialect == "postgresql":
            if not self._vetted:
                try:
                    self._vet(conn)
                except BaseException:
                    conn.invalidate()
                    raise
                self._vetted = True
            # On top of the session's default, as a second lock; the dialect knows its driver's way.
            dialect: Any = self.engine.dialect  # PostgreSQL's: set_readonly per driver
            dialect.set_readonly(conn.dbapi_connection, True)
        return conn

    def _vet(self, conn: Any) -> None:
        """Refuse Guarantor's own database by what the server says it is, however the URL spells
        the host (``localhost``, ``127.1``, ``[::ffff:127.0.0.1]``, ``?host=``), and a role that
        could reach past its tables (a superuser, or one that may read or write the server's
        files or run programs there) unless the file names it under ``privileged_role``."""
        identity, role, privileged = _pg_facts(conn)
        if self._own_url and identity == _own_identity(self._own_url):
            raise SourceError("this source's url is Guarantor's own database; a source may not read it")
        if privileged and role != self._privileged_role:
            raise SourceError(
                f"this source connects as {role}, a role that can {privileged}; connect as a role that can only read "
                f"the tables its indicators need, or name it under privileged_role: {role} to accept it"
            )

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


def _message(exc: Exception, timeout: float, query: str) -> str:
    """The driver's own message, first line, with every quoted part the query does not hold
    taken out (a value, a file's text, a setting) and no credential."""
    cause = getattr(exc, "orig", None) or exc
    full = str(cause).strip() or type(cause).__name__
    message = redact.quoted(full, query).splitlines()[0]
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


_PG_FACTS = """
SELECT pg_postmaster_start_time()::text, current_database(),
       (SELECT oid::text FROM pg_database WHERE datname = current_database()), current_user,
       CASE WHEN (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN 'do anything (a superuser)'
            WHEN pg_has_role(current_user, 'pg_read_server_files', 'USAGE') THEN 'read the server''s files'
            WHEN pg_has_role(current_user, 'pg_write_server_files', 'USAGE') THEN 'write the server''s files'
            WHEN pg_has_role(current_user, 'pg_execute_server_program', 'USAGE') THEN 'run programs on the server'
            ELSE '' END
"""
"""A PostgreSQL database's identity (its server's start time, its name and oid: two servers
started in the same microsecond with a database of the same oid and name would be needed to
confuse them) and what the connected role may do beyond reading tables."""


def _pg_facts(conn: Any) -> tuple[tuple[str, str, str], str, str]:
    cursor = conn.cursor()
    try:
        cursor.execute(_PG_FACTS)
        started, name, oid, role, privileged = cursor.fetchone()
    finally:
        cursor.close()
        conn.rollback()
    return (started, name, oid), role, privileged


@functools.lru_cache(maxsize=8)
def _own_identity(url: str) -> tuple[str, str, str]:
    """Guarantor's own database's identity, asked of it once per process."""
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    engine = create_engine(url, poolclass=NullPool)
    try:
        conn = engine.raw_connection()
        try:
            return _pg_facts(conn)[0]
        finally:
            conn.close()
    finally:
        engine.dispose()


def _sqlite_read_only(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.execute("PRAGMA busy_timeout=5000")
    dbapi_connection.set_authorizer(_sqlite_authorize)


def _sqlite_authorize(action: int, _table: str | None, name: str | None, *_: object) -> int:
    """Reading only, and only the functions of the allowlist: SQLite names each function it is
    about to call (``fts3_tokenizer``, ``load_extension``), whatever the query's spelling."""
    if action == sqlite3.SQLITE_FUNCTION:
        return sqlite3.SQLITE_OK if (name or "").lower() in allowed.SQLITE else sqlite3.SQLITE_DENY
    return sqlite3.SQLITE_OK if action in _SQLITE_READ_ONLY else sqlite3.SQLITE_DENY


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
    why = allowed.refused(_sqlglot_names(nodes), allowed.SQLITE if dialect == "sqlite" else allowed.COMMON)
    if why:
        raise SourceError(why)


_SQLGLOT_SYNTAX = frozenset(
    {
        "Cast",
        "TryCast",
        "Case",
        "If",
        "Coalesce",
        "Nullif",
        "Extract",
        "Interval",
        "Bracket",
        "Paren",
        "Exists",
        "Array",
    }
)
"""sqlglot's nodes for syntax that reads like a function (CAST, CASE, IIF, EXTRACT), not one."""


def _sqlglot_names(nodes: list[Any]) -> list[str]:
    """The name of each function a sqlglot tree calls, as the database spells it where sqlglot
    keeps it (``Anonymous``), else the first of sqlglot's names that the allowlists know: sqlglot
    renames functions it knows (SQLite's ``instr`` is its ``STR_POSITION``), so a known function
    passes when any of its spellings is allowed. What the database really calls is checked again
    when the query runs where the driver tells (SQLite's authorizer)."""
    from sqlglot import exp

    names = []
    for node in nodes:
        if isinstance(node, exp.Anonymous):
            names.append(str(node.name))
        elif isinstance(node, exp.Func) and not isinstance(node, exp.Binary | exp.Unary | exp.Connector):
            if type(node).__name__ in _SQLGLOT_SYNTAX:
                continue
            spellings = [n.lower() for n in node.sql_names()] + _TIME_SPELLINGS.get(type(node).__name__, [])
            names.append(next((n for n in spellings if n in allowed.COMMON), spellings[0]))
    return names


_TIME_SPELLINGS = {
    "TimeToStr": ["strftime"],
    "StrPosition": ["instr"],
    "TsOrDsToTimestamp": ["datetime"],
    "TsOrDsToDate": ["date"],
    "StrToTime": ["strptime"],
    "UnixToTime": ["to_timestamp"],
    "TimeStrToTime": ["datetime"],
    "CurrentTimestamp": ["current_timestamp"],
    "CurrentDate": ["current_date"],
    "CurrentTime": ["current_time"],
    "DateAdd": ["date_add"],
    "DateSub": ["date_sub"],
    "DateDiff": ["date_diff"],
    "TimestampTrunc": ["date_trunc"],
    "DateTrunc": ["date_trunc"],
    "ApproxDistinct": ["approx_count_distinct"],
    "ArrayAgg": ["array_agg"],
    "Pow": ["power"],
    "Variance": ["variance"],
    "VariancePop": ["var_pop"],
    "Stddev": ["stddev"],
    "StddevPop": ["stddev_pop"],
    "StddevSamp": ["stddev_samp"],
    "Quantile": ["quantile"],
    "PercentileCont": ["percentile_cont"],
    "PercentileDisc": ["percentile_disc"],
    "CountIf": ["count_if"],
    "Max": ["max"],
    "Min": ["min"],
}
"""The database's spelling of sqlglot's renamed functions, where no sql_name of sqlglot's is it."""


def _check_postgres(query: str) -> None:
    """One SELECT, by PostgreSQL's own parser, using only the syntax, functions and casts of
    ``allowed``: a visitor sees every node, so a function called anywhere (in a CTE, a subquery, a
    FROM list, an ORDER BY) is checked, and an unlisted kind of syntax is refused whole."""
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

    def names(parts: Any) -> tuple[str, str]:
        """(schema, name) of a qualified name; built-ins live in pg_catalog."""
        texts = [str(p.sval).lower() for p in parts or () if isinstance(p, ast.String)]
        return (texts[-2] if len(texts) > 1 else "pg_catalog"), (texts[-1] if texts else "")

    class Check(Visitor):
        def visit(self, _ancestors: Any, node: Any) -> None:
            kind = type(node).__name__
            if kind not in allowed.POSTGRES_NODES:
                raise SourceError(f"{_NODE_WORDS.get(kind, kind)} may not run on a sql source")
            if isinstance(node, ast.SelectStmt) and (node.intoClause is not None or node.lockingClause):
                raise SourceError("only a SELECT that writes and locks nothing may run on a sql source")
            if isinstance(node, ast.CommonTableExpr) and not isinstance(node.ctequery, ast.SelectStmt):
                raise SourceError("a WITH clause may only read (no INSERT, UPDATE or DELETE in it)")
            if isinstance(node, ast.FuncCall):
                schema, name = names(node.funcname)
                why = allowed.refused([name], allowed.POSTGRES)
                if why or schema != "pg_catalog":
                    raise SourceError(
                        why or f"{schema}.{name}() is not a built-in function; an indicator may not call it"
                    )
            if isinstance(node, ast.TypeName):
                schema, name = names(node.names)
                if schema != "pg_catalog" or name not in allowed.POSTGRES_TYPES:
                    raise SourceError(f"a cast to {name} is not allowed on a sql source (numbers, text, times only)")
            if isinstance(node, ast.RangeVar):
                schema, table = (node.schemaname or "").lower(), str(node.relname).lower()
                catalog = schema in ("pg_catalog", "pg_toast") or (not schema and table.startswith("pg_"))
                if catalog and not table.startswith(allowed.POSTGRES_CATALOG_VIEWS):
                    raise SourceError(
                        f"{table} is a system catalog; an indicator reads tables and the pg_stat views, not settings, "
                        "roles or files"
                    )
            if isinstance(node, ast.A_Expr) and node.name and names(node.name)[0] != "pg_catalog":
                raise SourceError("an operator outside pg_catalog may not run on a sql source")

    Check()(stmt)


_NODE_WORDS = {
    "XmlExpr": "an XML expression",
    "XmlSerialize": "XMLSERIALIZE",
    "RangeTableFunc": "XMLTABLE",
    "RangeTableSample": "TABLESAMPLE",
    "ParamRef": "a parameter ($1)",
    "IntoClause": "SELECT INTO",
    "LockingClause": "FOR UPDATE",
}
"""How a person would name the kinds of syntax refused most often (pglast names the others)."""


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
