"""The `duckdb` source: SQL over a DuckDB database file, read-only and locked down, added as one
module (``guarantor/guarantees/sources/duckdb.py``) with nothing else naming it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from guarantor.guarantees.sources.base import sqlite_path
from guarantor.settings import Settings

WORKSPACE = """\
name: Warehouse
sources:
  warehouse: {{type: duckdb, path: {path}}}
outcomes:
  - id: quick
    title: Orders arrive quickly
    for_whom: Shoppers
    guarantee:
      indicators:
        - {{id: days, source: warehouse, query: "{query}", target: "<= 3"}}
"""


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    """A DuckDB database as an analytics job leaves it, with a CSV export beside it."""
    now = datetime.now(UTC).replace(tzinfo=None)
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as db:
        db.execute("CREATE TABLE deliveries (order_id INTEGER, days DOUBLE, delivered_at TIMESTAMP)")
        db.executemany(
            "INSERT INTO deliveries VALUES (?, ?, ?)", [(i, 2 + i % 3, now - timedelta(hours=i)) for i in range(30)]
        )
    (tmp_path / "secrets.csv").write_text("token\nabc123\n")
    return tmp_path


def _check(cli, folder: Path, query: str, path: str = "warehouse.duckdb") -> tuple[int, dict[str, object], str]:  # type: ignore[no-untyped-def]
    (folder / "guarantor.yaml").write_text(WORKSPACE.format(path=json.dumps(path), query=query))
    r = cli("check", str(folder), "--all", "--json")
    indicator = json.loads(r.out)["outcomes"][0]["indicators"][0]["latest"] if r.out else {}
    return r.code, indicator, r.err


def test_a_duckdb_database_is_measured_read_only(cli, warehouse: Path) -> None:  # type: ignore[no-untyped-def]
    before = (warehouse / "warehouse.duckdb").read_bytes()
    code, latest, err = _check(cli, warehouse, "SELECT avg(days), max(delivered_at) FROM deliveries")
    assert code == 0 and latest["status"] == "MET" and latest["value"] == "3.0", err
    assert latest["value_at"] is not None  # the time column says when the value was true
    assert (warehouse / "warehouse.duckdb").read_bytes() == before  # opened read-only: not even a checkpoint


@pytest.mark.parametrize(
    ("query", "refused"),
    [
        # A SELECT calling no function, so refused by DuckDB itself: every file but the database.
        ("SELECT count(*) FROM 'secrets.csv'", "disabled by configuration"),
    ],
)
def test_a_query_reads_that_database_and_nothing_else(cli, warehouse: Path, query: str, refused: str) -> None:  # type: ignore[no-untyped-def]
    code, latest, err = _check(cli, warehouse, query)
    assert code == 13 and latest["status"] == "ERROR" and refused in str(latest["reason"]).lower(), (latest, err)
    assert "abc123" not in json.dumps(latest) and "root:" not in json.dumps(latest)


@pytest.mark.parametrize(
    ("query", "refused"),
    [
        ("COPY deliveries TO 'out.csv'", "only a SELECT"),
        ("ATTACH 'other.duckdb'", "only a SELECT"),
        ("INSTALL httpfs", "only a SELECT"),
        ("SELECT 1; DROP TABLE deliveries", "2 statements"),
        ("CREATE TABLE x AS SELECT 1", "only a SELECT"),
        # A file or settings function is off the allowlist: refused before anything runs.
        ("SELECT count(*) FROM read_text('/etc/passwd')", "read_text() is not a function"),
        ("SELECT count(*) FROM read_csv('secrets.csv')", "read_csv() is not a function"),
    ],
)
def test_anything_but_one_select_is_refused_at_its_line(cli, warehouse: Path, query: str, refused: str) -> None:  # type: ignore[no-untyped-def]
    (warehouse / "guarantor.yaml").write_text(WORKSPACE.format(path='"warehouse.duckdb"', query=query))
    r = cli("check", str(warehouse), "--all")
    assert r.code == 3 and "guarantor.yaml:10:" in r.err and refused in r.err, r.err
    assert not (warehouse / "out.csv").exists() and not (warehouse / "other.duckdb").exists()


def test_guarantors_own_database_and_a_missing_file_are_refused(cli, warehouse: Path, env: Settings) -> None:  # type: ignore[no-untyped-def]
    database = sqlite_path(env.resolved_database_url)  # None on PostgreSQL: no file to point at
    for own in [env.home / "anything.duckdb", *([database] if database else [])]:
        code, latest, err = _check(cli, warehouse, "SELECT 1", path=str(own))
        assert code == 13 and "Guarantor's own" in str(latest["reason"]), (own, latest, err)
    code, latest, err = _check(cli, warehouse, "SELECT 1", path="nowhere.duckdb")
    assert code == 13 and "no database file" in str(latest["reason"]), (latest, err)
