"""`duckdb`: SQL over a DuckDB database file (``path``), such as an analytics export or a dbt
target, opened read-only.

Locked down as the `file` source is, whoever wrote the query: external access off once the
database is open, so a query reads that database and nothing else (no ``read_csv('/etc/passwd')``,
no ``ATTACH``, no ``COPY … TO``); no extension installed or loaded; one SELECT, by DuckDB's own
parser. The file may not be Guarantor's own database or lie in its home folder. A database another
process holds open for writing cannot be opened beside it: DuckDB locks the file, and the
indicator is ERROR with DuckDB's message until the writer closes it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from pydantic import Field

from guarantor.guarantees.sources._duckdb import LOCKED_DOWN, check_query, lock, message, one_select, resolve, select
from guarantor.guarantees.sources.base import Context, Reading, SourceError, SourceSpec, register, sql_example
from guarantor.guarantees.spec import Indicator


class DuckdbSpec(SourceSpec):
    type: Literal["duckdb"]
    path: str = Field(description="The DuckDB database file, relative to the workspace file.")


class DuckdbSource:
    def __init__(self, spec: DuckdbSpec, context: Context) -> None:
        import duckdb

        self.path = resolve(spec.path, context.base_dir)
        own = context.guarded_under(self.path)
        if own is not None:
            raise SourceError(f"{self.path} is, or lies with, Guarantor's own {own}; name another database")
        if not self.path.is_file():
            raise SourceError(f"no database file {self.path}")
        try:
            self.conn = duckdb.connect(str(self.path), read_only=True, config=LOCKED_DOWN)
            lock(self.conn)
        except duckdb.Error as exc:
            raise SourceError(f"cannot open {self.path.name}: {message(exc)}") from exc

    def measure(self, indicator: Indicator, timeout: float) -> Reading:
        reading = select(self.conn, one_select(indicator.query_text), indicator, timeout)
        if reading.at is None and indicator.fresh_within is not None:
            # No time column: the data is as recent as the database file's last change.
            changed = datetime.fromtimestamp(self.path.stat().st_mtime, UTC)
            reading = Reading(reading.value, changed, reading.no_data)
        return reading

    def close(self) -> None:
        self.conn.close()


register("duckdb", DuckdbSpec, check_query, example=sql_example)(DuckdbSource)
