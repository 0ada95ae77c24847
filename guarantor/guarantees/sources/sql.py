"""`sql`: any SQLAlchemy URL, read-only, with a timeout; the query returns one number
(or a number and the time it was true)."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from guarantor.guarantees.sources.base import (
    Context,
    Reading,
    SourceError,
    register,
    reveal,
    row_reading,
)
from guarantor.guarantees.spec import Duration, Indicator, Secret


class SqlSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    type: Literal["sql"]
    url: Secret
    timeout: Duration = timedelta(seconds=30)


class SqlSource:
    def __init__(self, spec: SqlSpec, context: Context) -> None:
        # Imported here: the spec above is part of every workspace, the engine only of a check.
        from sqlalchemy import create_engine, event
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import SQLAlchemyError

        url = make_url(reveal(spec.url))
        self.dialect = url.get_backend_name()
        if self.dialect == "sqlite" and url.database and url.database != ":memory:":
            path = Path(url.database)
            path = path if path.is_absolute() else context.base_dir / path
            if not path.is_file():
                raise SourceError(f"no SQLite database at {path}")
            # Read-only at the connection: the file cannot be written whatever the query says.
            url = url.set(database=f"file:{path}?mode=ro", query={"uri": "true"})
        connect_args: dict[str, Any] = {}
        if self.dialect == "postgresql":
            ms = int(spec.timeout.total_seconds() * 1000)
            connect_args["options"] = f"-c default_transaction_read_only=on -c statement_timeout={ms}"
            connect_args["connect_timeout"] = max(1, int(spec.timeout.total_seconds()))
        try:
            self.engine = create_engine(url, connect_args=connect_args, pool_pre_ping=False)
        except (SQLAlchemyError, ImportError) as exc:
            raise SourceError(f"cannot use {url.render_as_string(hide_password=True)}: {exc}") from exc
        if self.dialect == "sqlite":
            event.listen(self.engine, "connect", _sqlite_busy_timeout)

    def measure(self, indicator: Indicator, timeout: float) -> Reading:
        from sqlalchemy import text
        from sqlalchemy.exc import SQLAlchemyError

        try:
            with self.engine.connect() as conn:
                raw = conn.connection.driver_connection
                if self.dialect == "sqlite" and raw is not None:
                    deadline = time.monotonic() + timeout
                    raw.set_progress_handler(lambda: int(time.monotonic() > deadline), 10_000)
                try:
                    row = conn.execute(text(indicator.query)).first()
                finally:
                    if self.dialect == "sqlite" and raw is not None:
                        raw.set_progress_handler(None, 0)
                    conn.rollback()
        except SQLAlchemyError as exc:
            message = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
            if "interrupted" in message:
                message = f"timed out after {timeout:g} s"
            raise SourceError(message) from exc
        return row_reading(row)

    def close(self) -> None:
        self.engine.dispose()


def _sqlite_busy_timeout(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.execute("PRAGMA busy_timeout=5000")


register("sql", SqlSpec)(lambda spec, context: SqlSource(spec, context))
