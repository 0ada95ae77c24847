"""What an indicator's query may call, per SQL dialect: an allowlist, never a deny-list.

An indicator needs aggregates, arithmetic, string, date and window functions and casts; nothing
more. A deny-list of dangerous functions was bypassed by functions that run a query given as text
(PostgreSQL's ``query_to_xml('select pg_read_file(…)')``, ``ts_stat``, ``xpath`` over it) and by
ones nobody had listed (SQLite's ``fts3_tokenizer``). So every function a query calls, and every
kind of syntax a PostgreSQL query uses, must be named here; anything else is refused when the
workspace is validated, with the function's name, and again before the query runs. Functions that
execute text as SQL, read or list files, touch settings, large objects, extensions or the network
are never on these lists.

Each list is the database's own names for its built-in functions (what ``pg_proc``,
``pragma_function_list`` and ``duckdb_functions()`` call them), lower case.
"""

from __future__ import annotations

from collections.abc import Iterable

_AGGREGATES = {
    "count", "sum", "avg", "min", "max", "total", "group_concat", "string_agg", "array_agg", "bool_and",
    "bool_or", "every", "stddev", "stddev_pop", "stddev_samp", "variance", "var_pop", "var_samp", "median",
    "percentile_cont", "percentile_disc", "mode", "corr", "covar_pop", "covar_samp", "regr_slope",
    "regr_intercept", "regr_r2", "regr_count", "regr_avgx", "regr_avgy", "bit_and", "bit_or", "quantile",
    "quantile_cont", "quantile_disc", "approx_count_distinct", "approx_quantile", "arg_max", "arg_min",
    "first", "last", "any_value", "count_star", "count_if", "countif", "sum_if", "avg_if", "list", "product",
    "fsum", "favg", "kahan_sum", "sumkahan", "entropy", "kurtosis", "skewness", "mad", "histogram",
}  # fmt: skip
_WINDOW = {
    "row_number", "rank", "dense_rank", "percent_rank", "cume_dist", "ntile", "lag", "lead", "first_value",
    "last_value", "nth_value",
}  # fmt: skip
_MATH = {
    "abs", "ceil", "ceiling", "floor", "round", "trunc", "sign", "sqrt", "cbrt", "power", "pow", "exp", "ln",
    "log", "log2", "log10", "mod", "div", "pi", "degrees", "radians", "greatest", "least", "width_bucket",
    "gcd", "lcm", "sin", "cos", "tan", "asin", "acos", "atan", "atan2", "isnan", "isinf", "isfinite",
    "random", "even", "factorial", "round_even", "roundbankers", "fdiv", "fmod",
}  # fmt: skip
_STRING = {
    "length", "char_length", "character_length", "octet_length", "bit_length", "lower", "upper", "initcap",
    "trim", "btrim", "ltrim", "rtrim", "substr", "substring", "position", "strpos", "instr", "replace",
    "concat", "concat_ws", "left", "right", "lpad", "rpad", "split_part", "regexp_replace", "regexp_match",
    "regexp_matches", "regexp_count", "regexp_like", "regexp_full_match", "regexp_extract", "starts_with",
    "ends_with", "contains", "reverse", "repeat", "md5", "to_char", "to_number", "like", "prefix", "suffix",
    "ascii", "chr", "char", "unicode", "lcase", "ucase", "format", "printf", "hex",
    "quote", "string_split", "str_split", "split", "levenshtein", "strftime", "nullif", "coalesce",
    "ifnull", "iif", "if", "typeof", "pg_typeof", "hash", "like_escape", "not_like_escape", "ilike_escape",
    "similar_to_escape", "overlay", "translate", "textlen", "array_to_string", "string_to_array",
}  # fmt: skip
_TIME = {
    "now", "current_date", "current_time", "current_timestamp", "localtime", "localtimestamp",
    "clock_timestamp", "statement_timestamp", "transaction_timestamp", "date_trunc", "date_part",
    "datepart", "datetrunc", "extract", "age", "make_date", "make_time", "make_interval",
    "make_timestamp", "make_timestamptz", "justify_days", "justify_hours", "justify_interval", "timezone",
    "date_bin", "time_bucket", "to_date", "to_timestamp", "date", "time", "datetime", "julianday",
    "unixepoch", "epoch", "epoch_ms", "date_diff", "datediff", "date_sub", "date_add", "year", "month",
    "day", "hour", "minute", "second", "week", "weekday", "dayofweek", "dayofmonth", "dayofyear",
    "quarter", "isodow", "isoyear", "strptime", "try_strptime", "last_day", "monthname", "dayname",
    "to_days", "to_hours", "to_minutes", "to_seconds", "to_milliseconds", "to_weeks", "to_months",
    "to_years", "get_current_time", "get_current_timestamp", "today", "current_localtimestamp",
}  # fmt: skip
_JSON = {
    "json_extract", "json_extract_string", "json_extract_path", "json_extract_path_text",
    "jsonb_extract_path", "jsonb_extract_path_text", "json_array_length", "jsonb_array_length",
    "json_typeof", "jsonb_typeof", "json_type", "json_valid", "json_value",
}  # fmt: skip
_ARRAYS = {"array_length", "cardinality", "array_position", "unnest", "generate_series", "range", "len"}

COMMON = frozenset(_AGGREGATES | _WINDOW | _MATH | _STRING | _TIME | _JSON | _ARRAYS)
"""Functions every SQL database we read names alike and an indicator may call."""

POSTGRES = COMMON | {
    # what PostgreSQL's grammar turns syntax into (x AT TIME ZONE z, EXTRACT, SIMILAR TO, IS NORMALIZED)
    "pg_collation_for", "is_normalized", "normalize", "int4", "int8", "float8", "numeric", "text", "bool",
}  # fmt: skip
SQLITE = COMMON | {"glob", "likelihood", "likely", "unlikely", "zeroblob"}
DUCKDB = COMMON | {
    "list_aggregate", "list_sum", "list_avg", "list_count", "list_max", "list_min", "struct_extract",
    "list_extract", "array_extract", "try_cast", "row", "struct_pack", "list_value", "~~", "!~~", "~~*",
    "!~~*", "epoch_us", "epoch_ns",
}  # fmt: skip
FILE_READERS = frozenset(
    {"read_csv", "read_csv_auto", "read_parquet", "parquet_scan", "read_json", "read_json_auto", "read_ndjson"}
)
"""DuckDB's readers of data files: the `file` source's way to read with options, confined to the
files it allows. Never ``read_text``, ``read_blob`` or ``glob``, which read or list any file kind."""

POSTGRES_TYPES = frozenset(
    {
        "int2", "int4", "int8", "smallint", "integer", "int", "bigint", "numeric", "decimal", "float4", "float8",
        "real", "double precision", "text", "varchar", "bpchar", "char", "character", "character varying",
        "bool", "boolean", "date", "time", "timetz", "timestamp", "timestamptz", "interval", "json", "jsonb",
        "uuid", "money",
    }
)  # fmt: skip
"""Types a PostgreSQL query may cast to: a cast runs the type's input function, and some (xml,
regclass, the reg* types) parse or look up more than a value."""

POSTGRES_CATALOG_VIEWS = ("pg_stat_", "pg_statio_")
"""The only relations of pg_catalog an indicator may read: the statistics views, which monitoring
queries use (rows, scans, vacuum times). Others hold settings (``pg_settings``, read a character
at a time through ``ascii(substr(setting, n, 1))``), roles and file rules."""

POSTGRES_NODES = frozenset(
    {
        "SelectStmt", "ResTarget", "ColumnRef", "A_Const", "A_Expr", "A_Star", "A_Indirection", "A_Indices",
        "A_ArrayExpr", "BoolExpr", "BooleanTest", "NullTest", "CaseExpr", "CaseWhen", "CoalesceExpr",
        "MinMaxExpr", "NullIfExpr", "FuncCall", "NamedArgExpr", "TypeCast", "TypeName", "CollateClause",
        "SQLValueFunction", "SubLink", "RowExpr", "RangeVar", "RangeSubselect", "RangeFunction", "JoinExpr",
        "Alias", "SortBy", "WindowDef", "GroupingSet", "GroupingFunc", "WithClause", "CommonTableExpr",
        "String", "Integer", "Float", "Boolean", "BitString",
    }
)  # fmt: skip
"""The kinds of syntax a PostgreSQL indicator may use (pglast's node names): no XMLTABLE, XML
expressions, TABLESAMPLE methods, locking, parameters or INTO."""


def refused(names: Iterable[str], allowed: frozenset[str]) -> str | None:
    """Why a query calling ``names`` may not run (the first name not allowed), or None."""
    for name in names:
        if name.lower() not in allowed:
            return (
                f"{name}() is not a function an indicator may call: only aggregates, arithmetic, string, date "
                "and window functions and casts are allowed"
            )
    return None
