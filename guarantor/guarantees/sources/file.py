"""`file`: CSV, Parquet or JSON files queried with DuckDB SQL (``SELECT avg(x) FROM 'orders.csv'``).

Confined to what the spec names, whoever wrote the query: DuckDB runs with external access off
except for the data files in the source's folder (``path``, beside the workspace file by default:
CSV, TSV, text, Parquet and JSON files, compressed or not, outside hidden files and folders, so a
repository's ``.env`` or ``.git`` stays out of reach) and the folders or files the file's author
lists under ``paths`` (whole folders, globs included); no extension is installed or loaded, the
configuration is locked before any query runs, and only one read-only statement (a SELECT, by
DuckDB's own parser) is accepted. So an indicator cannot write a file (``COPY … TO``), read one
elsewhere (``read_text('/etc/passwd')``), reach the network or attach a database.

DuckDB checks paths as written, so relative names in string literals that name files in the folder
(``'orders.csv'``) are written out in full before the query runs. A glob (``'logs/*.csv'``) reads
only in a folder listed under ``paths``: DuckDB lets one list through as a folder, not as files.
"""

from __future__ import annotations

import glob
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import Field

from guarantor.guarantees.sources._duckdb import LOCKED_DOWN, check_query, lock, one_select, resolve, select
from guarantor.guarantees.sources.base import Context, Reading, SourceError, SourceSpec, register
from guarantor.guarantees.spec import Indicator


class FileSpec(SourceSpec):
    type: Literal["file"]
    path: str = Field(".", description="The folder queries read, where relative file names are looked up.")
    paths: list[str] = Field(
        default_factory=list, description="More folders or files queries may read, besides path (allow-list)."
    )


class FileSource:
    def __init__(self, spec: FileSpec, context: Context) -> None:
        import duckdb

        self.folder = resolve(spec.path, context.base_dir)
        listed = [resolve(p, context.base_dir) for p in spec.paths]
        for place in [self.folder, *listed]:
            own = context.guarded_under(place)
            if own is not None:
                raise SourceError(
                    f"this source may read {place}, which holds Guarantor's own {own}; "
                    "give it a path (and paths) that do not"
                )
        folders = [str(p).rstrip("/") + "/" for p in listed if not p.is_file()]
        files = [str(p) for p in listed if p.is_file()] + [str(p) for p in _data_files(self.folder)]
        # One in-memory database per run; each measurement gets its own cursor (DuckDB's way to
        # share a connection between threads) so files are opened once, not once per query.
        try:
            self.conn = duckdb.connect(":memory:", config=LOCKED_DOWN)
            self.conn.execute("SET allowed_directories = ?", [folders])
            self.conn.execute("SET allowed_paths = ?", [files])
            lock(self.conn)
        except duckdb.Error as exc:
            raise SourceError(f"cannot start DuckDB: {exc}") from exc

    def measure(self, indicator: Indicator, timeout: float) -> Reading:
        query, files = _absolute_paths(one_select(indicator.query_text, readers=True), self.folder)
        reading = select(self.conn, query, indicator, timeout)
        if reading.at is None and indicator.fresh_within is not None and files:
            # No time column: the data is as recent as the newest file the query read.
            newest = max(p.stat().st_mtime for p in files)
            reading = Reading(reading.value, datetime.fromtimestamp(newest, UTC), reading.no_data)
        return reading

    def close(self) -> None:
        self.conn.close()


DATA_SUFFIXES = (".csv", ".tsv", ".txt", ".parquet", ".json", ".jsonl", ".ndjson")
MAX_FILES = 20_000


def _data_files(folder: Path) -> list[Path]:
    """The data files a query may read in the source's folder: by suffix (``.gz``/``.zst`` too),
    never hidden, never inside a hidden folder."""
    found: list[Path] = []
    for root, dirs, names in os.walk(folder):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in names:
            plain = name.lower().removesuffix(".gz").removesuffix(".zst")
            if not name.startswith(".") and plain.endswith(DATA_SUFFIXES):
                found.append(Path(root) / name)
                if len(found) >= MAX_FILES:
                    return found
    return found


def _absolute_paths(query: str, folder: Path) -> tuple[str, list[Path]]:
    """Relative file names in string literals, written out under the folder when they name files
    there, and the files they name; DuckDB's tokenizer finds the literals, so names in comments or
    identifiers stay."""
    import duckdb

    out: list[str] = []
    files: list[Path] = []
    last = 0
    for start, kind in duckdb.tokenize(query):
        if kind != duckdb.token_type.string_const or query[start] != "'":
            continue
        end, value = _literal(query, start)
        if not value or value.startswith("~") or "://" in value or ".." in value:
            continue
        full = Path(value) if value.startswith("/") else folder / value
        wild = any(c in value for c in "*?[")
        named = [full] if full.is_file() else [Path(p) for p in glob.glob(str(full))] if wild else []
        files += named
        if (named or full.exists()) and not value.startswith("/"):
            out += [query[last:start], "'", str(full).replace("'", "''"), "'"]
            last = end
    out.append(query[last:])
    return "".join(out), files


def _literal(query: str, start: int) -> tuple[int, str]:
    """The end (after the closing quote) and the value of the string literal opening at ``start``."""
    i = start + 1
    while True:
        i = query.find("'", i)
        if i < 0:
            return len(query), query[start + 1 :]
        if query[i + 1 : i + 2] == "'":
            i += 2
            continue
        return i + 1, query[start + 1 : i].replace("''", "'")


def _example(share: bool) -> dict[str, str]:
    measure = "100.0 * avg(CASE WHEN CONDITION THEN 1 ELSE 0 END)" if share else "avg(DURATION_IN_UNIT)"
    return {"query": f"SELECT {measure} FROM 'FILE.csv'"}


register("file", FileSpec, check_query, example=_example)(FileSource)
