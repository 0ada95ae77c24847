"""`file`: CSV, Parquet or JSON files queried with DuckDB SQL (``SELECT avg(x) FROM 'orders.csv'``).

Relative file names are looked up beside the workspace file (or under the source's ``path``).
"""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

from guarantor.guarantees.sources.base import Context, Reading, SourceError, register, row_reading
from guarantor.guarantees.spec import Duration, Indicator


class FileSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    type: Literal["file"]
    path: str = "."
    timeout: Duration = timedelta(seconds=30)


class FileSource:
    def __init__(self, spec: FileSpec, context: Context) -> None:
        import duckdb

        folder = Path(spec.path)
        folder = folder if folder.is_absolute() else context.base_dir / folder
        # One in-memory database per run; each measurement gets its own cursor (DuckDB's way to
        # share a connection between threads) so files are opened once, not once per query.
        self.conn = duckdb.connect(":memory:")
        self.conn.execute("SET GLOBAL file_search_path = ?", [str(folder)])

    def measure(self, indicator: Indicator, timeout: float) -> Reading:
        import duckdb

        conn = self.conn.cursor()
        timer = threading.Timer(timeout, conn.interrupt)
        try:
            timer.start()
            row = conn.execute(indicator.query).fetchone()
        except duckdb.InterruptException as exc:
            raise SourceError(f"timed out after {timeout:g} s") from exc
        except duckdb.Error as exc:
            raise SourceError(str(exc).strip().splitlines()[0]) from exc
        finally:
            timer.cancel()
            conn.close()
        return row_reading(row)

    def close(self) -> None:
        self.conn.close()


register("file", FileSpec)(lambda spec, context: FileSource(spec, context))
