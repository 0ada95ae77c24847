"""What an indicator's query may call, per dialect: an allowlist, checked when the workspace is
validated (so an editor's query is refused before it is stored, at its file:line) and again when
it runs. Each refused query below reaches past the tables on some server or database file: it runs
SQL given as text, reads or lists files, touches settings, large objects, extensions or the network.
The accepted ones are the indicators people write."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from guarantor.guarantees.sources.base import REGISTRY, Context, SourceError
from guarantor.guarantees.sources.sql import SqlSource, SqlSpec
from guarantor.guarantees.spec import Indicator
from guarantor.settings import Settings


def _why(source: dict[str, str], query: str) -> str | None:
    kind = REGISTRY[source["type"]]
    return kind.check_query(kind.spec.model_validate(source), query)


POSTGRES = {"type": "sql", "url": "postgresql+psycopg://reader@127.0.0.1/shop"}
SQLITE = {"type": "sql", "url": "sqlite:///shop.db"}
DUCKDB = {"type": "duckdb", "path": "warehouse.duckdb"}
FILES = {"type": "file"}


@pytest.mark.parametrize(
    "query",
    [
        "SELECT length(query_to_xml('select pg_read_file(''/etc/passwd'') as f', true, false, '')::text)",
        "SELECT ascii(substr(query_to_xml('select 1', true, false, '')::text, 3, 1))",
        "SELECT length(query_to_xmlschema('select 1', true, false, '')::text)",
        "SELECT length(query_to_xml_and_xmlschema('select 1', true, false, '')::text)",
        "SELECT count(*) FROM ts_stat('select to_tsvector(pg_read_file(''/etc/passwd''))')",
        "SELECT length(ts_rewrite('a'::tsquery, 'select ''a''::tsquery, ''b''::tsquery')::text)",
        "SELECT length(set_config('search_path', 'x', false))",
        "SELECT length(pg_read_file('/etc/passwd'))",
        "SELECT length(pg_read_binary_file('/etc/passwd'))",
        "SELECT count(*) FROM pg_ls_dir('.')",
        "SELECT size FROM pg_stat_file('postgresql.conf')",
        "SELECT lo_import('/etc/passwd')",
        "SELECT lo_export(1, '/tmp/x')",
        "SELECT count(*) FROM dblink('host=127.0.0.1', 'select 1') AS t(x int)",
        "SELECT length(current_setting('data_directory'))",
        "SELECT count(*) FROM pg_ls_logdir()",
        "SELECT count(*) FROM pg_ls_waldir()",
        "SELECT pg_file_write('x', 'y', false)",
        "SELECT length(table_to_xml('users', true, false, '')::text)",
        "SELECT length(cursor_to_xml('c', 1, true, false, '')::text)",
        "SELECT length(database_to_xml(true, false, '')::text)",
        "SELECT length(schema_to_xml('public', true, false, '')::text)",
        "SELECT count(*) FROM xpath('/a', '<a/>')",
        "SELECT count(*) FROM XMLTABLE('/a' PASSING '<a>1</a>' COLUMNS x int)",
        "SELECT length(xmlparse(document '<a/>')::text)",
        "SELECT pg_sleep(60)",
        "SELECT pg_catalog.pg_read_file('/etc/passwd')",
        "SELECT public.anything(1)",
        "SELECT 'pg_read_file'::regproc::text",
        "SELECT count(*) FROM t TABLESAMPLE SYSTEM (10)",
        "WITH x AS (SELECT pg_read_file('/etc/passwd') AS f) SELECT length(f) FROM x",
        "SELECT count(*) FROM t WHERE EXISTS (SELECT query_to_xml('select 1', true, false, ''))",
        "SELECT nextval('tickets')",
        "COPY (SELECT 1) TO PROGRAM 'id'",
        "SELECT 1 FROM t FOR UPDATE",
        "SELECT ascii(substr(setting, 1, 1)) FROM pg_settings WHERE name = 'data_directory'",
        "SELECT count(*) FROM pg_catalog.pg_authid",
        "SELECT count(*) FROM pg_hba_file_rules",
    ],
)
def test_postgresql_allows_only_the_functions_an_indicator_needs(query: str) -> None:
    why = _why(POSTGRES, query)
    assert why is not None, query


@pytest.mark.parametrize(
    "query",
    [
        "SELECT fts3_tokenizer('simple')",
        "SELECT load_extension('/tmp/x.so')",
        "SELECT length(readfile('/etc/passwd'))",
        "SELECT writefile('/tmp/x', 'y')",
        "SELECT sqlite_compileoption_get(1)",
        "ATTACH DATABASE 'other.db' AS o",
        "VACUUM INTO '/tmp/copy.db'",
        "PRAGMA writable_schema = 1",
    ],
)
def test_sqlite_allows_only_the_functions_an_indicator_needs(query: str) -> None:
    assert _why(SQLITE, query) is not None, query


@pytest.mark.parametrize(
    "query",
    [
        "SELECT count(*) FROM read_text('/etc/passwd')",
        "SELECT count(*) FROM read_blob('/etc/passwd')",
        "SELECT count(*) FROM glob('*')",
        "SELECT count(*) FROM read_csv('/etc/passwd')",
        "SELECT count(*) FROM read_parquet('x.parquet')",
        "SELECT current_setting('threads')",
        "SELECT length(getenv('HOME'))",
        "SELECT count(*) FROM duckdb_settings()",
        "SELECT count(*) FROM duckdb_extensions()",
        "SELECT count(*) FROM duckdb_secrets()",
        "SELECT count(*) FROM query('SELECT 1')",
        "SELECT count(*) FROM query_table('t')",
        "SELECT count(*) FROM sniff_csv('x.csv')",
        "SELECT count(*) FROM parquet_metadata('x.parquet')",
        "SELECT count(*) FROM read_json_objects('x.json')",
        "SELECT count(*) FROM main.anything()",
    ],
)
def test_duckdb_allows_no_file_settings_or_extension_function(query: str) -> None:
    assert _why(DUCKDB, query) is not None, query


@pytest.mark.parametrize(
    "query",
    [
        "SELECT count(*) FROM read_text('notes.txt')",
        "SELECT count(*) FROM read_blob('data.csv')",
        "SELECT count(*) FROM glob('*')",
        "SELECT current_setting('allowed_paths')",
    ],
)
def test_a_file_source_reads_data_files_only_through_duckdbs_data_readers(query: str) -> None:
    assert _why(FILES, query) is not None, query
    assert _why(FILES, "SELECT count(*) FROM read_csv('orders.csv', header = true)") is None


@pytest.mark.parametrize(
    ("source", "query"),
    [
        (POSTGRES, "SELECT 100.0 * avg(CASE WHEN on_time THEN 1 ELSE 0 END), max(settled_at) FROM payouts"),
        (
            POSTGRES,
            "SELECT percentile_cont(0.95) WITHIN GROUP (ORDER BY ms) FROM requests WHERE at > now() - interval '1 day'",
        ),
        (
            POSTGRES,
            "SELECT avg(extract(epoch FROM closed - opened)) / 3600 FROM tickets WHERE closed::date >= "
            "current_date - 7",
        ),
        (
            POSTGRES,
            "WITH d AS (SELECT date_trunc('day', at) AS day, count(*) AS n FROM signups GROUP BY 1) "
            "SELECT coalesce(avg(n), 0)::numeric(10, 2), max(day) FROM d",
        ),
        (POSTGRES, "SELECT sum(n_live_tup) FROM pg_stat_user_tables WHERE relname = 'orders'"),
        (POSTGRES, "SELECT count(*) FILTER (WHERE status ILIKE 'fail%') * 100.0 / nullif(count(*), 0) FROM runs"),
        (
            POSTGRES,
            "SELECT sum(amount) FROM orders o JOIN customers c USING (customer_id) WHERE c.region IN ('EU', 'UK')",
        ),
        (POSTGRES, "SELECT max(n) FROM (SELECT row_number() OVER (PARTITION BY team ORDER BY at) AS n FROM deploys) x"),
        (
            SQLITE,
            "SELECT avg(julianday(closed) - julianday(opened)) * 24, max(closed) FROM tickets WHERE "
            "closed >= datetime('now', '-7 days')",
        ),
        (SQLITE, "SELECT 100.0 * sum(iif(on_time, 1, 0)) / count(*), strftime('%s', max(at)) FROM payouts"),
        (
            SQLITE,
            "SELECT round(avg(coalesce(minutes, 0)), 1) FROM calls WHERE lower(kind) LIKE 'support%' "
            "AND instr(tags, 'vip') = 0",
        ),
        (
            DUCKDB,
            "SELECT quantile_cont(days, 0.9), max(delivered_at) FROM deliveries WHERE delivered_at > "
            "now() - INTERVAL 7 DAY",
        ),
        (DUCKDB, "SELECT count(*) FILTER (WHERE status = 'late') / count(*) FROM deliveries"),
        (FILES, "SELECT avg(minutes) FROM 'calls/*.csv'"),
        (FILES, "SELECT 100.0 * avg(CASE WHEN ok THEN 1 ELSE 0 END) FROM read_csv('runs.csv', header = true)"),
    ],
)
def test_the_indicators_people_write_are_allowed(source: dict[str, str], query: str) -> None:
    assert _why(source, query) is None


def test_a_query_is_refused_at_its_line_with_the_functions_name(tmp_path: Path) -> None:
    from guarantor.errors import ValidationFailed
    from guarantor.workspace import loader

    text = (
        "name: Shop\nsources:\n  db: {type: sql, url: 'postgresql+psycopg://reader@127.0.0.1/shop'}\noutcomes:\n"
        "  - id: o\n    title: T\n    for_whom: W\n    guarantee:\n      indicators:\n"
        "        - {id: i, source: db, query: \"SELECT length(query_to_xml('select 1', true, false, '')::text)\", "
        "target: '>= 0'}\n"
    )
    (tmp_path / "guarantor.yaml").write_text(text)
    with pytest.raises(ValidationFailed) as caught:
        loader.load(tmp_path / "guarantor.yaml")
    shown = str(caught.value) + " ".join(str(p) for p in caught.value.problems)
    assert "guarantor.yaml:10:" in shown and "query_to_xml()" in shown, shown


@pytest.mark.parametrize(
    "query", ["SELECT fts3_tokenizer('simple')", "SELECT load_extension('x')", "SELECT sqlite_version()"]
)
def test_sqlites_authorizer_refuses_a_function_off_the_list_when_the_query_runs(
    tmp_path: Path, env: Settings, query: str
) -> None:
    """The second line, for SQL validation cannot read: SQLite names each function it calls."""
    target = tmp_path / "data.db"
    sqlite3.connect(target).close()
    source = SqlSource(SqlSpec(type="sql", url=f"sqlite:///{target}"), Context(tmp_path, False))
    try:
        with pytest.raises(SourceError, match="only reading is allowed"):
            source.measure(Indicator(id="i", source="s", query=query, target=">= 0"), 5.0)
        assert (
            source.measure(
                Indicator(id="i", source="s", query="SELECT abs(-2) + length('ab')", target=">= 0"), 5.0
            ).value
            == 4
        )
    finally:
        source.close()


def test_postgresql_refuses_them_when_the_query_runs_too(tmp_path: Path, pg_source: tuple[str, str]) -> None:
    """The second line on a real server: a query that reached the source without validation (an
    older file, another path) is refused before it is sent, and the reader role can read its table."""
    import psycopg

    with psycopg.connect(pg_source[0].replace("postgresql+psycopg", "postgresql"), autocommit=True) as conn:
        conn.execute("CREATE TABLE t (x int)")
        conn.execute("INSERT INTO t VALUES (41)")
    source = SqlSource(SqlSpec(type="sql", url=pg_source[1]), Context(tmp_path, False))
    try:
        for query in (
            "SELECT length(query_to_xml('select 1', true, false, '')::text)",
            "SELECT count(*) FROM ts_stat('select to_tsvector(''a'')')",
            "SELECT length(current_setting('data_directory'))",
        ):
            with pytest.raises(SourceError, match=r"is not a function an indicator may call"):
                source.measure(Indicator(id="i", source="s", query=query, target=">= 0"), 5.0)
        assert (
            source.measure(Indicator(id="i", source="s", query="SELECT max(x) + 1 FROM t", target=">= 0"), 5.0).value
            == 42
        )
    finally:
        source.close()
