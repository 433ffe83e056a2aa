"""The dialect layer (costlens/dialect.py): DuckDB macros inlined, DuckDB-only constructs rewritten for Spark.

Inlining is proven on DuckDB itself: the shipped macros, called as written and inlined by the dialect layer,
give the same values for the same awkward inputs. What Spark makes of the rewrites is tests/test_spark_sql.py.
"""

from __future__ import annotations

from decimal import Decimal

import duckdb
import pytest

from costlens import dialect
from costlens.db import connect

AWKWARD_TEXT = ["10", " 10.0 ", "10.7", "ten", "", "NULL", None, "-3", "1e3", "9999999999999"]


@pytest.fixture(scope="module")
def macro_db():
    """A database with costlens' schema and shared macros, as `costlens ingest` creates it."""
    con = connect(":memory:")
    con.execute("CREATE TABLE t (x VARCHAR, y VARCHAR)")
    rows = [(x, y) for x in AWKWARD_TEXT for y in ["OpenAI", " anthropic ", "azure", None, "Bedrock"]]
    con.executemany("INSERT INTO t VALUES (?, ?)", rows)
    yield con
    con.close()


MACRO_CALLS = [
    "parse_tokens(x)",
    "parse_money(x)",
    "nullif_blank(x)",
    "normalize_provider(y)",
    "parse_ts(x)",
    "money_problem('cost', x)",
    "charge('tool', parse_money(x), 'call', y, 'usage.x')",
    "charge('tool', parse_money(x), 'call', y, 'usage.x', counted := false)",
]


@pytest.mark.parametrize("call", MACRO_CALLS)
def test_an_inlined_macro_gives_duckdb_the_values_of_the_macro(macro_db, call):
    query = f"SELECT x, y, {call} AS v FROM t ORDER BY ALL"
    [inlined] = dialect.transpile(query, "test", dialect.shipped_macros(), "duckdb")
    assert "parse_tokens(" not in inlined.lower() and "charge(" not in inlined.lower()  # really inlined
    assert macro_db.execute(inlined).fetchall() == macro_db.execute(query).fetchall()


def test_a_macro_argument_keeps_its_precedence():
    # m(a) AS (a * 2) called with 1 + 2 is 6, never 1 + 2 * 2
    text = "CREATE MACRO twice(a) AS (a * 2); SELECT twice(1 + 2) AS v"
    [inlined] = dialect.transpile(text, "test", {}, "duckdb")
    assert duckdb.sql(inlined).fetchall() == [(6,)]
    assert dialect.to_spark(text, "test") == ["SELECT ((1 + 2) * 2) AS v"]


def test_a_table_macro_becomes_a_subquery():
    text = "CREATE MACRO evens(n) AS TABLE SELECT range AS i FROM range(n) WHERE range % 2 = 0; SELECT sum(i) FROM evens(7) AS e"
    [inlined] = dialect.transpile(text, "test", {}, "duckdb")
    assert duckdb.sql(inlined).fetchall() == [(0 + 2 + 4 + 6,)]


def test_a_missing_macro_argument_names_the_file():
    with pytest.raises(dialect.DialectError, match=r"^sql/x\.sql: twice is called without its argument b"):
        dialect.to_spark("CREATE MACRO twice(a, b) AS (a * b); SELECT twice(1)", "sql/x.sql")


def test_an_ordered_list_is_never_silently_unordered():
    # SQLGlot alone writes list(x ORDER BY y) as COLLECT_LIST(x): the order would be lost without a word
    [spark] = dialect.to_spark("SELECT list(id ORDER BY usd DESC, id) FROM t", "test")
    assert spark.startswith("SELECT TRANSFORM(ARRAY_SORT(COLLECT_LIST(STRUCT(usd AS k0, id AS k1, id AS v))")


def test_what_spark_cannot_express_is_refused_naming_the_file():
    with pytest.raises(dialect.DialectError, match=r"^sql/y\.sql: .*TRY"):
        dialect.to_spark("SELECT try(x * 2) FROM t", "sql/y.sql")


def test_a_format_field_spark_cannot_print_alike_is_refused():
    with pytest.raises(dialect.DialectError, match="format"):
        dialect.to_spark("SELECT format('{:>10}', x) FROM t", "t")


def test_union_by_name_and_star_exclude_are_written_out_from_the_schema():
    schema = {"t": {"a": "TEXT", "b": "TEXT", "x": "TEXT"}, "u": {"b": "TEXT", "c": "TEXT"}}
    text = "SELECT * EXCLUDE (x) FROM t UNION ALL BY NAME SELECT c, b FROM u"
    assert dialect.to_spark(text, "t", schema=schema) == [
        "SELECT t.a AS a, t.b AS b, NULL AS c FROM t AS t UNION ALL SELECT NULL AS a, u.b AS b, u.c AS c FROM u AS u"
    ]


def test_the_rewrites_spark_reads():
    cases = {
        "SELECT CAST(x AS HUGEINT) FROM t": "SELECT CAST(x AS DECIMAL(38, 0)) FROM t",
        "SELECT x GLOB 'gpt-4.1*' FROM t": "SELECT x RLIKE '^gpt-4[.]1.*$' FROM t",
        "SELECT regexp_full_match(x, '[0-9]+') FROM t": "SELECT x RLIKE '^(?:[0-9]+)$' FROM t",
        "SELECT x[2:4] FROM t": "SELECT SLICE(x, 2, 3) FROM t",
        "SELECT x[1:-2], list_slice(x, 2, -1) FROM t": (
            "SELECT SLICE(x, 1, GREATEST(SIZE(x) - 1, 0)), SLICE(x, 2, GREATEST(SIZE(x) - 1, 0)) FROM t"
        ),
        "SELECT any_value(x) FILTER (WHERE y) FROM t": "SELECT ANY_VALUE(x, TRUE) FILTER(WHERE y) FROM t",
        "SELECT json_object('a', 1, 'b', json_object('c', x)) FROM t": (
            "SELECT TO_JSON(NAMED_STRUCT('a', 1, 'b', NAMED_STRUCT('c', x)), MAP('ignoreNullFields', 'false')) FROM t"
        ),
        "SELECT coalesce(m, MAP {}) FROM t": "SELECT COALESCE(m, MAP()) FROM t",
        "SELECT MAP {'a': x, 'b': 2} FROM t": "SELECT MAP('a', x, 'b', 2) FROM t",
        "SELECT a / b FROM t": "SELECT CAST(a AS DOUBLE) / b FROM t",
        "SELECT date_diff('second', a, b) FROM t": (
            "SELECT DATEDIFF(SECOND, DATE_TRUNC('SECOND', a), DATE_TRUNC('SECOND', b)) FROM t"
        ),
        "SELECT CAST(median(x) AS BIGINT), CAST(x AS BIGINT) FROM t": (
            "SELECT CAST(BROUND(MEDIAN(x)) AS BIGINT), CAST(x AS BIGINT) FROM t"
        ),
        "SELECT avg(x), avg(x) FILTER (WHERE y) FROM t": (
            "SELECT (CAST(SUM(x) AS DOUBLE) / COUNT(x)), (CAST(SUM(x) FILTER(WHERE y) AS DOUBLE) / COUNT(x) FILTER(WHERE y)) FROM t"
        ),
        "SELECT format('{} calls, ' || '{:,.2f} or {}%', n, usd, p) FROM t": (
            "SELECT FORMAT_STRING('%s calls, %,.2f or %s%%', n, CAST(usd AS DOUBLE), p) FROM t"
        ),
        "SELECT quantile_cont(x, [0.5, 0.95]) FROM t": "SELECT PERCENTILE(x, ARRAY(0.5, 0.95)) FROM t",
        "SELECT row_number() OVER () AS n FROM t": "SELECT MONOTONICALLY_INCREASING_ID() AS n FROM t",
        "SELECT json_merge_patch(json_object('a', 1), CASE WHEN c THEN json_object('b', 2) ELSE json_object() END) FROM t": (
            "SELECT CASE WHEN c THEN TO_JSON(NAMED_STRUCT('a', 1, 'b', 2), MAP('ignoreNullFields', 'false')) "
            "ELSE TO_JSON(NAMED_STRUCT('a', 1), MAP('ignoreNullFields', 'false')) END FROM t"
        ),
        "SELECT json_object('t', (SELECT CAST(m AS JSON) FROM s), 'e', json_object()) FROM t": (
            "SELECT TO_JSON(NAMED_STRUCT('t', (SELECT m FROM s), 'e', MAP()), MAP('ignoreNullFields', 'false')) FROM t"
        ),
        "WITH c AS NOT MATERIALIZED (SELECT 1 AS x) SELECT x FROM c": "WITH c AS (SELECT 1 AS x) SELECT x FROM c",
        "SELECT try(json_extract_string(x, '$.a')) FROM t": "SELECT GET_JSON_OBJECT(x, '$.a') FROM t",
    }
    for duck, spark in cases.items():
        assert dialect.to_spark(duck, "test") == [spark], duck


def test_parameters_are_bound_as_typed_literals_and_only_outside_strings_and_comments():
    """The Spark connection binds DuckDB's `?` and `$name` itself (costlens.spark_sql._bound): each value as the
    literal of its type, in the order written; a `?` in a string or a comment is text."""
    import datetime

    from costlens.spark_sql import _bound

    bound = _bound(
        "SELECT ?, '?', ? /* ? */ FROM t WHERE d = ? AND m = ? AND x IN (SELECT unnest(?))",
        [1, "it's", datetime.date(2026, 10, 1), Decimal("0.000001"), ["a", None]],
    )
    assert bound == (
        "SELECT 1, '?', 'it''s' /* ? */ FROM t WHERE d = CAST('2026-10-01' AS DATE) "
        "AND m = CAST('0.000001' AS DECIMAL(38, 6)) AND x IN (SELECT unnest(['a', NULL]))"
    )
    named = _bound("SELECT * FROM r WHERE rowid >= $first AND rowid < $last", {"first": 0, "last": 1000000})
    assert named == "SELECT * FROM r WHERE rowid >= 0 AND rowid < 1000000"
    # the bound text means the same to DuckDB as the parameters did
    con = duckdb.connect()
    query = "SELECT ? + 1, ?::DECIMAL(38, 18) * 3, ? || '?'"
    values = [41, Decimal("0.1"), "x"]
    assert con.execute(_bound(query, values)).fetchall() == con.execute(query, values).fetchall()
