"""The SQL in sql/ on a real Apache Spark (pyspark, local[2], the JVM on the machine), through the dialect layer.

Two promises are measured here:
- **Reach**: every SQL file is carried to Spark (macros inlined, transpiled, read by Spark's own parser, every
  function it calls one Spark has) — or is in SPARK_PENDING with the reason it is not yet. The ledger is exact
  both ways: a file that starts to pass must leave it, so the figure can only improve.
- **Same values**: each rewrite the dialect layer makes, and the shared macros as they are inlined, give on
  Spark the values DuckDB gives for the same rows.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest

from costlens import dialect
from costlens.db import connect
from costlens.model.leaks import KINDS
from costlens.sqlfiles import load_sql, sql_root

pytestmark = [pytest.mark.slow]

STAR_COLUMNS = "* REPLACE over staged_full, an ingest table: written out only from the schema tried first (a report's)"
DDL = "DuckDB DDL (a sequence, ALTER TABLE … ADD COLUMN IF NOT EXISTS): the lake's tables are not made this way"
JSON = "DuckDB's JSON functions without a Spark form yet (json_transform to JSON members, json_merge_patch of a computed patch, generate_subscripts, json_type at a path)"
PLACEHOLDER = "{span_docs}: a whole query the code puts in (DuckDB's read_json of the file), read here as a bare name"
INTERVALS = "to_milliseconds(n): an INTERVAL built from a count, which Spark writes as make_interval"
COLUMNS_STAR = "struct_pack(*COLUMNS(* EXCLUDE …)): a content key over all but some columns; Spark has no COLUMNS()"
PARSER = "Spark's parser stops on the statement as the layer writes it (the test's message says where)"
PYTHON_UDF = "pricing_variant: a macro the pricing code creates at run time (the runner inlines it then)"
OPAQUE = "SQLGlot reads a statement only as an opaque command"
LIST_SLICES = "list slices with a negative end (words[1:-2]) and list_zip: ingest-side, where ingest runs (DuckDB)"

# file → why it does not reach Spark yet
SPARK_PENDING = {
    "intermediate/fresh_priced_calls.sql": PYTHON_UDF,
    "load/billing_lines_insert.sql": COLUMNS_STAR,
    "load/calls_check.sql": STAR_COLUMNS,
    "load/prompt_sketches.sql": LIST_SLICES,
    "schema/001_core.sql": DDL,
    "schema/003_additions.sql": DDL,
    "staging/anthropic_billing_json.sql": JSON,
    "staging/anthropic_usage.sql": JSON,
    "staging/block_trace.sql": INTERVALS,
    "staging/claude_code.sql": JSON,
    "staging/generic.sql": COLUMNS_STAR,
    "staging/helicone.sql": JSON,
    "staging/langfuse_observations.sql": PARSER,
    "staging/langfuse_records.sql": JSON,
    "staging/langfuse_traces.sql": JSON,
    "staging/litellm.sql": JSON,
    "staging/openai_billing.sql": PARSER,
    "staging/openai_billing_json.sql": JSON,
    "staging/otel_span_rows_flat.sql": PLACEHOLDER,
    "staging/otel_span_rows_otlp.sql": JSON,
    "staging/otel_spans_to_calls.sql": OPAQUE,
    "staging/provider_lines.sql": JSON,
}


@pytest.fixture(scope="module")
def spark():
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("costlens-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        # the JVM starts with this session: the sample month's period and leak tables are cached in it
        .config("spark.driver.memory", "3g")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("OFF")
    from costlens.spark_sql import SESSION_SETTINGS

    for key, value in SESSION_SETTINGS.items():  # as every costlens session has them (not only the runner's tests)
        session.conf.set(key, value)
    yield session
    session.stop()


_UNRESOLVED_CALL = re.compile(r"'([A-Za-z_][A-Za-z0-9_.]*)\(")


# what the dialect layer says when the columns of a table a statement reads are not in the schema it was given
_COLUMNS_UNKNOWN = ("cannot write out its * columns", "its columns are not known")


def _why_not_on_spark(spark, relative: str, known_functions: set[str], schema, ingest_schemas=()) -> str | None:
    """None when every statement of the file reaches Spark's parser with functions Spark has, else why not. A
    statement over an ingest's temp tables is written out with the columns some ingest of the sample month
    leaves them (`ingest_schemas`, tried in turn)."""
    # a `{name}` placeholder stands for SQL the code builds from its own names: read as a plain name here
    text = re.sub(r"\{[a-z_]+\}", "placeholder", load_sql(relative))
    statements = None
    for extra in ({}, *ingest_schemas):
        try:
            statements = dialect.spark_statements(text, relative, {**schema, **extra})
            break
        except dialect.DialectError as error:
            why = str(error)
            if not any(phrase in why for phrase in _COLUMNS_UNKNOWN):
                return why
    if statements is None:
        return why
    parser = spark._jsparkSession.sessionState().sqlParser()
    for statement in statements:
        try:
            plan = parser.parsePlan(statement)
        except Exception as error:  # py4j carries Spark's ParseException
            return f"Spark's parser: {str(error).strip().splitlines()[0]}"
        # the functions as Spark's own parser reads them: an unresolved call prints as 'name(…)
        called = {name.lower() for name in _UNRESOLVED_CALL.findall(plan.toString())}
        unknown = called - known_functions
        if unknown:
            return f"functions Spark does not have: {sorted(unknown)}"
    return None


@pytest.fixture(scope="module")
def report_schema(sample_month_db, tmp_path_factory):
    """The columns of every table and view a report and an export focus leave on DuckDB (the database's and
    the period's temp ones) and of a what-if's calls: what the Spark runner knows when it writes out a
    `* EXCLUDE`, a `BY NAME` or the rows an UPDATE leaves."""
    from costlens.config import load_config
    from costlens.export.focus import build_focus_rows
    from costlens.period import PeriodOptions
    from costlens.report.build import build_report

    from conftest import SAMPLE_CONFIG, copy_sample_db

    con = connect(str(copy_sample_db(sample_month_db, tmp_path_factory.mktemp("schema"))))
    config = load_config(SAMPLE_CONFIG)
    period = PeriodOptions().resolve(con)
    build_report(con, config, period)
    con.execute(load_sql("whatif/base.sql"))  # the table a what-if's changes UPDATE
    build_focus_rows(con, config, period)  # and the tables export focus reads
    schema: dict[str, dict[str, str]] = {}
    for table, column in con.execute(
        "SELECT table_name, column_name FROM duckdb_columns() WHERE NOT internal ORDER BY table_name, column_index"
    ).fetchall():
        schema.setdefault(table, {})[column] = "TEXT"
    con.close()
    return schema


@pytest.fixture(scope="module")
def ingest_schemas():
    """The columns of the temp tables each ingest of a sample-month file leaves (its staging, checking and
    inserting tables), one schema per distinct kind of ingest."""
    from costlens.config import load_config
    from costlens.ingest.runner import ingest_paths

    from conftest import SAMPLE_CONFIG, SAMPLE_LOGS

    con = connect(":memory:")
    config = load_config(SAMPLE_CONFIG)
    schemas: list[dict[str, dict[str, str]]] = []
    for path in sorted(SAMPLE_LOGS.iterdir()):
        ingest_paths(con, [str(path)], config)
        schema: dict[str, dict[str, str]] = {}
        for table, column in con.execute(
            "SELECT table_name, column_name FROM duckdb_columns() WHERE NOT internal AND database_name = 'temp' "
            "ORDER BY table_name, column_index"
        ).fetchall():
            schema.setdefault(table, {})[column] = "TEXT"
        if schema not in schemas:
            schemas.append(schema)
    con.close()
    return schemas


def test_every_sql_file_reaches_spark_or_is_in_the_pending_ledger(spark, report_schema, ingest_schemas):
    known_functions = {row[0].lower() for row in spark.sql("SHOW FUNCTIONS").collect()}
    files = sorted(f"{p.parent.name}/{p.name}" for p in sql_root().glob("*/*.sql"))
    failing = {
        f: why
        for f in files
        if (why := _why_not_on_spark(spark, f, known_functions, report_schema, ingest_schemas)) is not None
    }
    assert not set(SPARK_PENDING) - set(files), "SPARK_PENDING names a file sql/ no longer has"
    newly_failing = {f: why for f, why in failing.items() if f not in SPARK_PENDING}
    assert not newly_failing, f"no longer carried to Spark: {newly_failing}"
    now_passing = sorted(set(SPARK_PENDING) - set(failing))
    assert not now_passing, f"carried to Spark now: take them out of SPARK_PENDING: {now_passing}"
    # the figure the issue tracks (86 of 108 when the ledger was last drawn)
    assert len(files) - len(failing) >= 86


ROWS = [
    # id, usd, model, bucket, text
    (1, Decimal("0.50"), "gpt-4.1-mini", "a", "10"),
    (2, None, "gpt-4.1", "a", " 10.0 "),
    (3, Decimal("2.25"), "gpt-401", "a", "10.7"),
    (4, Decimal("2.25"), "claude-sonnet-4-5", "b", "ten"),
    (5, Decimal("0.01"), "claude-3.5-haiku", "b", None),
    (6, Decimal("7.00"), "claude-3x5-haiku", "b", "-3"),
    (7, Decimal("-1.00"), "o3", "b", "NULL"),
]

# DuckDB SQL as sql/ writes it → (what the value is compared as)
SAME_VALUE_QUERIES = {
    "ordered list, DESC with NULLs last, ties by id": (
        "SELECT bucket, list(id ORDER BY usd DESC, id) AS v FROM t GROUP BY bucket ORDER BY bucket"
    ),
    "ordered list under FILTER": (
        "SELECT bucket, list(model ORDER BY id DESC) FILTER (WHERE usd > 0) AS v FROM t GROUP BY bucket ORDER BY bucket"
    ),
    "the n smallest (leak examples)": (
        "SELECT bucket, min_by(id, {'missing': usd IS NULL, 'usd': coalesce(-usd, 0), 'id': id}, 2) AS v "
        "FROM t GROUP BY bucket ORDER BY bucket"
    ),
    "the n largest, NULL keys never count": (
        "SELECT bucket, arg_max(id, usd, 2) AS v FROM t GROUP BY bucket ORDER BY bucket"
    ),
    "arg_min on a row key": ("SELECT bucket, arg_min(id, (usd, -id)) AS v FROM t GROUP BY bucket ORDER BY bucket"),
    "GLOB against a pattern with a dot": ("SELECT id, model GLOB 'claude-3.5*' AS v FROM t ORDER BY id"),
    "GLOB against a pattern column": (
        "SELECT t.id, t.model GLOB p.pattern AS v FROM t CROSS JOIN (SELECT 'gpt-4.1*' AS pattern) AS p ORDER BY t.id"
    ),
    "HUGEINT arithmetic past BIGINT": (
        "SELECT id, CAST(CAST(id AS HUGEINT) * 1000000000000 * 1000000000 AS VARCHAR) AS v FROM t ORDER BY id"
    ),
    "a 1-based slice": (
        "SELECT bucket, list(id ORDER BY id)[2:3] AS v, list(id ORDER BY id)[1:-2] AS w, "
        "list(id ORDER BY id)[2:count(*)] AS x FROM t GROUP BY bucket ORDER BY bucket"
    ),
    "list_sum over an ordered list, NULLs skipped": (
        "SELECT bucket, list_sum(list(CAST(usd AS DOUBLE) / 3 ORDER BY id)) AS v FROM t GROUP BY bucket ORDER BY bucket"
    ),
    "DECIMAL / DECIMAL is a DOUBLE": ("SELECT id, usd / CAST(3 AS DECIMAL(18, 6)) AS v FROM t ORDER BY id"),
    "a computed number to BIGINT rounds half to even": (
        "SELECT bucket, CAST(avg(id) AS BIGINT) AS v, CAST(avg(id) + 1 AS BIGINT) AS w FROM t GROUP BY bucket ORDER BY bucket"
    ),
    "avg of DECIMALs is a DOUBLE": (
        "SELECT bucket, avg(CASE WHEN usd > 1 THEN 1.0 ELSE 0.0 END) AS v, avg(usd) AS w FROM t GROUP BY bucket ORDER BY bucket"
    ),
    "format() with a money field and a percent sign": (
        "SELECT id, format('{} of {:,.2f} ({}%)', model, round(coalesce(usd, 0) * 1000, 2), id) AS v FROM t ORDER BY id"
    ),
    "json_merge_patch of objects": (
        "SELECT id, json_merge_patch(json_object('id', id), CASE WHEN usd > 1 THEN json_object('big', true) "
        "ELSE json_object() END) AS v FROM t ORDER BY id"
    ),
    "date_diff counts boundaries, not whole units": (
        "SELECT id, date_diff('second', TIMESTAMP '2026-01-01 00:00:00.9', TIMESTAMP '2026-01-01 00:00:01.1') AS v, "
        "date_diff('second', TIMESTAMP '2026-01-01 00:00:01.1', TIMESTAMP '2026-01-01 00:00:00.9') AS w FROM t ORDER BY id"
    ),
    "parse_tokens (shared macro)": ("SELECT id, parse_tokens(text) AS v FROM t ORDER BY id"),
    "parse_money (shared macro)": ("SELECT id, CAST(parse_money(text) AS VARCHAR) AS v FROM t ORDER BY id"),
    "nullif_blank (shared macro)": ("SELECT id, nullif_blank(text) AS v FROM t ORDER BY id"),
    "normalize_provider (shared macro)": ("SELECT id, normalize_provider(bucket) AS v FROM t ORDER BY id"),
    "regexp_replace with a group, anchored, first match": (
        "SELECT id, regexp_replace(CAST(usd AS VARCHAR), '(\\.[0-9]*?[0-9])0+$', '\\1') AS v FROM t ORDER BY id"
    ),
    "regexp_replace of every match, case-insensitive, a $ in the replacement": (
        "SELECT id, regexp_replace(model, 'GPT|[.]', '$', 'gi') AS v FROM t ORDER BY id"
    ),
    "strftime with literal letters": (
        "SELECT id, strftime(TIMESTAMP '2026-10-05 07:08:09', '%Y-%m-%dT%H:%M:%SZ') AS v FROM t ORDER BY id"
    ),
    "timezone('UTC', t) is the same instant": (
        "SELECT id, strftime(timezone('UTC', TIMESTAMP '2026-10-05 07:08:09'), '%Y-%m-%d %H:%M:%S') AS v FROM t ORDER BY id"
    ),
    "list(DISTINCT … ORDER BY …)": (
        "SELECT bucket, list(DISTINCT model ORDER BY model) FILTER (WHERE model IS NOT NULL) AS v FROM t "
        "GROUP BY bucket ORDER BY bucket"
    ),
    "isfinite: NaN, ±Infinity and NULL": (
        "SELECT id, isfinite(CASE id WHEN 1 THEN CAST('NaN' AS DOUBLE) WHEN 2 THEN CAST('Infinity' AS DOUBLE) "
        "WHEN 3 THEN CAST('-Infinity' AS DOUBLE) WHEN 4 THEN CAST(NULL AS DOUBLE) ELSE id / 3 END) AS v "
        "FROM t ORDER BY id"
    ),
    "try_strptime: read_ts's US dates, the first format that reads": (
        "SELECT id, try_strptime(CASE id WHEN 1 THEN '4/1/25' WHEN 2 THEN '04/01/2025' WHEN 3 THEN '12/31/24 1:05 PM' "
        "WHEN 4 THEN '12/31/2024 11:05:09 am' WHEN 5 THEN '13/01/25' WHEN 6 THEN ' 4/1/25  13:07 ' ELSE 'ten' END, "
        "['%m/%d/%y', '%m/%d/%Y', '%m/%d/%y %H:%M', '%m/%d/%Y %H:%M', '%m/%d/%y %H:%M:%S', '%m/%d/%Y %H:%M:%S', "
        "'%m/%d/%y %I:%M %p', '%m/%d/%Y %I:%M %p', '%m/%d/%y %I:%M:%S %p', '%m/%d/%Y %I:%M:%S %p']) AS v, "
        "try_strptime(CASE id WHEN 1 THEN '4/1/99' WHEN 2 THEN '4/1/68 12:05 AM' WHEN 3 THEN '4/1/25 13:05 PM' "
        "WHEN 4 THEN '4/1/25 0:05 PM' WHEN 5 THEN '4/1/251:05' WHEN 6 THEN '4/001/25' ELSE '4/1/25 1:05PM' END, "
        "['%m/%d/%y', '%m/%d/%y %H:%M', '%m/%d/%y %I:%M %p']) AS w FROM t ORDER BY id"
    ),
    "try_strptime: compact and dashed dates": (
        "SELECT id, try_strptime(CASE id WHEN 1 THEN '20261001' WHEN 2 THEN '2026101' WHEN 3 THEN '2026-10-01' "
        "WHEN 4 THEN '20261301' END, '%Y%m%d') AS v, "
        "try_strptime(CASE id WHEN 1 THEN '2026-10-01' WHEN 2 THEN '2026-1-5' WHEN 3 THEN '2026-02-30' END, "
        "'%Y-%m-%d') AS w FROM t ORDER BY id"
    ),
    "list_position: 1-based, absent is NULL": (
        "SELECT bucket, list_position(list(model ORDER BY id), 'o3') AS v, list_position(list(id ORDER BY id), 2) AS w "
        "FROM t GROUP BY bucket ORDER BY bucket"
    ),
    "list_slice: a literal, a negative and a computed end": (
        "SELECT bucket, list_slice(list(id ORDER BY id), 1, 2) AS v, list_slice(list(id ORDER BY id), 1, -2) AS w, "
        "list_slice(list(id ORDER BY id), 2, count(*) + 5) AS x, list_slice(list(id ORDER BY id), 1, 0) AS y "
        "FROM t GROUP BY bucket ORDER BY bucket"
    ),
    "json_valid: objects, scalars, broken text, NULL": (
        "SELECT id, json_valid(CASE id WHEN 1 THEN '{\"a\": [1, 2]}' WHEN 2 THEN '[1, 2' WHEN 3 THEN '\"x\"' "
        "WHEN 4 THEN 'null' WHEN 5 THEN 'ten' WHEN 6 THEN '' END) AS v FROM t ORDER BY id"
    ),
    "try(from_base64(x)): NULL when x is not base64": (
        "SELECT id, lower(hex(try(from_base64(CASE id WHEN 1 THEN 'AAEC' WHEN 2 THEN 'not base64!' WHEN 3 THEN '' "
        "WHEN 4 THEN 'QUJD' WHEN 5 THEN 'QUI=' WHEN 6 THEN 'QUI' END)))) AS v, lower(hex(try(from_base64(CASE id "
        "WHEN 1 THEN 'QU JD' WHEN 2 THEN 'QU=D' WHEN 3 THEN 'Q===' WHEN 4 THEN '-_8A' WHEN 5 THEN 'QQ==' END)))) AS w "
        "FROM t ORDER BY id"
    ),
    "try(json_type(x)) of text that may not be JSON": (
        "SELECT id, try(json_type(CASE WHEN id < 4 THEN '[1]' ELSE '{}' END)) AS v FROM t ORDER BY id"
    ),
    "json_type of each kind of JSON value": (
        'SELECT id, json_type(CASE id WHEN 1 THEN \'{"a": {"b": 1}}\' WHEN 2 THEN \' [1, "x"]\' '
        "WHEN 3 THEN '\"x\"' WHEN 4 THEN 'null' WHEN 5 THEN '-3' WHEN 6 THEN 'true' END) AS v, "
        "json_type(CASE id WHEN 1 THEN '1.5' WHEN 2 THEN '1e5' WHEN 3 THEN '{}' WHEN 4 THEN '[]' "
        "WHEN 5 THEN '9007199254740993' WHEN 6 THEN '9223372036854775808' WHEN 7 THEN '-0' END) AS w, "
        "json_type(CASE id WHEN 1 THEN '-9223372036854775809' WHEN 2 THEN '18446744073709551616' WHEN 3 THEN '1.0' "
        "WHEN 4 THEN '0' END) AS x FROM t ORDER BY id"
    ),
    "json_transform to VARCHAR members and maps": (
        "SELECT id, v.a AS va, list_transform(v.b, lambda x: x.c) AS vb, w FROM (SELECT id, "
        'json_transform(j, \'{"a":"VARCHAR","b":[{"c":"VARCHAR"}]}\') AS v, '
        "json_transform(j, '\"MAP(VARCHAR, VARCHAR)\"') AS w FROM (SELECT id, CASE id "
        'WHEN 1 THEN \'{"a": 1, "b": [{"c": "x"}, {"c": 2.50}, {"d": 1}, null]}\' '
        'WHEN 2 THEN \'{"A": "y", "a": {"z": [1, 2]}, "b": 3}\' WHEN 3 THEN \'{"a": null, "b": []}\' '
        'WHEN 4 THEN \'{}\' WHEN 5 THEN \'{"a": true, "b": "text"}\' WHEN 6 THEN \'{"a": "q\\u00e9\\n"}\' END AS j '
        "FROM t)) ORDER BY id"
    ),
    "regexp_replace of the first match of an unanchored pattern, with a group": (
        "SELECT id, regexp_replace(model, '-', '_') AS v, regexp_replace(model || chr(10) || model, "
        "'([a-z])-([0-9])', '\\2=\\1') AS w, regexp_replace(model, 'X|4', '$', 'i') AS x FROM t ORDER BY id"
    ),
    "json_exists: a member, a null one, an absent one": (
        "SELECT id, json_exists(j, '$.a') AS v, json_exists(j, '$.a.b') AS w FROM (SELECT id, CASE id "
        'WHEN 1 THEN \'{"a": 1}\' WHEN 2 THEN \'{"a": null}\' WHEN 3 THEN \'{"b": 1}\' WHEN 4 THEN \'{"a": {"b": [1]}}\' '
        "WHEN 5 THEN '[1]' WHEN 6 THEN '{\"A\": 1}' END AS j FROM t) ORDER BY id"
    ),
    "regexp_replace with a pattern of adjacent literals and chr(1)": (
        "SELECT id, regexp_replace(model || chr(1) || bucket, '[.]'\n'|-[0-9]'\n'(\\x01|$)', chr(1), 'g') AS v "
        "FROM t ORDER BY id"
    ),
    "UNION ALL BY NAME in a chain": (
        "SELECT * FROM (SELECT id, model FROM t UNION ALL BY NAME SELECT model, id FROM t "
        "UNION ALL BY NAME SELECT id + 100 AS id, bucket AS model FROM t) ORDER BY id, model"
    ),
}


@pytest.fixture(scope="module")
def both_engines(spark, tmp_path_factory):
    """The same rows in DuckDB (with costlens' macros) and in Spark (read from the Parquet DuckDB wrote)."""
    con = connect(":memory:")
    con.execute("CREATE TABLE t (id INTEGER, usd DECIMAL(38, 18), model VARCHAR, bucket VARCHAR, text VARCHAR)")
    con.executemany("INSERT INTO t VALUES (?, ?, ?, ?, ?)", ROWS)
    parquet = tmp_path_factory.mktemp("spark") / "t.parquet"
    con.execute(f"COPY t TO '{parquet}' (FORMAT parquet)")
    spark.read.parquet(str(parquet)).createOrReplaceTempView("t")
    yield con, spark
    con.close()


def _plain(value):
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Decimal):
        return value.normalize()
    return value


@pytest.mark.parametrize("name", list(SAME_VALUE_QUERIES))
def test_a_rewrite_gives_spark_the_values_duckdb_gives(both_engines, name):
    con, spark = both_engines
    query = SAME_VALUE_QUERIES[name]
    [spark_sql] = dialect.spark_statements(
        query, name, {"t": dict.fromkeys(("id", "usd", "model", "bucket", "text"), "TEXT")}
    )
    on_duckdb = [_plain(list(row)) for row in con.execute(query).fetchall()]
    on_spark = [_plain(list(row)) for row in spark.sql(spark_sql).collect()]
    assert on_spark == on_duckdb, spark_sql


def test_getvariable_reads_sparks_session_variable(both_engines):
    """getvariable('v') (costlens_keep_content, which safe_tags reads) is Spark's session variable v."""
    con, spark = both_engines
    query = "SELECT coalesce(getvariable('costlens_keep_content'), false) AS v"
    [spark_sql] = dialect.spark_statements(query, "getvariable")
    for value in (True, False):
        con.execute(f"SET VARIABLE costlens_keep_content = {value}")
        spark.sql(f"DECLARE OR REPLACE VARIABLE costlens_keep_content BOOLEAN DEFAULT {value}")
        assert spark.sql(spark_sql).collect()[0][0] is con.execute(query).fetchone()[0] is value


def test_json_object_nests_as_an_object_on_spark(both_engines):
    con, spark = both_engines
    query = "SELECT json_object('id', id, 'inner', json_object('model', model)) AS v FROM t ORDER BY id"
    [spark_sql] = dialect.spark_statements(query, "json")
    on_duckdb = [json.loads(row[0]) for row in con.execute(query).fetchall()]
    on_spark = [json.loads(row[0]) for row in spark.sql(spark_sql).collect()]
    assert on_spark == on_duckdb
    assert on_spark[0] == {"id": 1, "inner": {"model": "gpt-4.1-mini"}}


def _comparable(value):
    if isinstance(value, Decimal):
        return value.normalize()
    if isinstance(value, float):
        return float(f"{value:.12g}")  # a DOUBLE mean or percentile: the same to 12 significant digits
    if isinstance(value, list | tuple):
        return [_comparable(v) for v in value]
    return value


@pytest.fixture(scope="module")
def sample_month_on_both(spark, sample_month_db, tmp_path_factory):
    """The sample month's period on DuckDB (the report's own functions: priced calls, period metrics, leak
    detectors) and on Spark: the priced calls and the settings tables written as Parquet, then the period
    engine's SQL (costlens.engine.PERIOD_STEPS) and the leak SQL run on Spark over what Spark computed."""
    from costlens.config import load_config
    from costlens.engine import PERIOD_STEPS, compute_period_metrics, prepare_priced_calls
    from costlens.leaks.detect import run_detectors
    from costlens.period import PeriodOptions
    from costlens.pricing.freeze import freeze_closed_months
    from costlens.reconcile.calibrate import use_list_prices
    from costlens.spark_sql import SparkSQL, tables_read

    from conftest import SAMPLE_CONFIG, copy_sample_db

    folder = tmp_path_factory.mktemp("both")
    config = load_config(SAMPLE_CONFIG)
    con = connect(str(copy_sample_db(sample_month_db, folder)))
    period = PeriodOptions().resolve(con)
    use_list_prices(con)
    prepare_priced_calls(con, config)
    freeze_closed_months(con, period)
    compute_period_metrics(con, config, period, "computed")
    findings = run_detectors(con, config)  # also leaves its small tables (thresholds, routing, …) in DuckDB

    runner = SparkSQL(spark)
    lake = folder / "lake"
    lake.mkdir()
    leak_steps = ["leaks/_prelude.sql", *(f"leaks/{kind}.sql" for kind in KINDS), "leaks/_finding.sql"]
    for table in tables_read([*PERIOD_STEPS, *leak_steps]):
        if table == "leak_detector":  # each detector's own view (detect._detector_rows)
            continue
        path = lake / f"{table}.parquet"
        con.execute(f"COPY (SELECT * FROM {table}) TO '{path}' (FORMAT parquet)")
        runner.register_parquet(table, str(path))
    for step in PERIOD_STEPS:
        runner.run_file(step)
    runner.run_file("leaks/_prelude.sql")
    yield con, runner, findings
    con.close()


def test_the_period_engine_on_spark_gives_duckdbs_figures_on_the_sample_month(sample_month_on_both):
    """Every row of period_calls, task_costs and unit_economics_all, every column (money exact)."""
    con, runner, _ = sample_month_on_both
    for table, key in (
        ("period_calls", "call_id"),
        ("task_costs", "task_key"),
        ("unit_economics_all", "dimension, key"),
    ):
        # task_no is an arbitrary unique number per task (DuckDB counts, Spark numbers by partition)
        columns = [row[0] for row in con.execute(f"DESCRIBE {table}").fetchall() if row[0] != "task_no"]
        query = f"SELECT {', '.join(columns)} FROM {table} ORDER BY {key}"
        on_duckdb = [_comparable(list(row)) for row in con.execute(query).fetchall()]
        on_spark = [_comparable(list(row)) for row in runner.session.sql(query).collect()]
        assert len(on_spark) == len(on_duckdb) > 0, table
        for duck_row, spark_row in zip(on_duckdb, on_spark):
            assert dict(zip(columns, spark_row)) == dict(zip(columns, duck_row)), table
    assert len(on_duckdb) == 53  # the sample month's unit-economics rows: every dimension's keys and the total
    total = "SELECT cost_usd FROM unit_economics_all WHERE dimension = 'total'"
    assert runner.session.sql(total).collect()[0][0] == con.execute(total).fetchall()[0][0]


@pytest.mark.parametrize("kind", KINDS)
def test_a_leak_detector_on_spark_finds_what_it_finds_on_duckdb(sample_month_on_both, kind):
    """sql/leaks/<kind>.sql through sql/leaks/_finding.sql on Spark, over the period Spark computed: the same
    findings as costlens.leaks.detect.run_detectors on DuckDB, field by field (money exact, evidence as JSON)."""
    from benchmarks.spark import _finding_fields
    from costlens.model.leaks import Finding

    _, runner, findings = sample_month_on_both
    runner.run(f"CREATE OR REPLACE TEMP VIEW leak_detector AS {load_sql(f'leaks/{kind}.sql')}", f"sql/leaks/{kind}.sql")
    rows = runner.rows(load_sql("leaks/_finding.sql"), "sql/leaks/_finding.sql")
    on_spark = [_finding_fields(Finding.from_row(row.asDict())) for row in rows]
    on_duckdb = [_finding_fields(f) for f in findings if f.kind == kind]
    assert on_spark == on_duckdb


def test_the_sample_month_has_findings_for_the_comparison_to_mean_something(sample_month_on_both):
    # the comparison above is empty for a kind DuckDB finds nothing of (cache_miss, input_quality here)
    _, _, findings = sample_month_on_both
    assert sorted({f.kind for f in findings}) == [
        "agent_loops",
        "batchable",
        "context_bloat",
        "output_verbosity",
        "premium_overuse",
        "retries",
    ]
    assert len(findings) == 8


def test_the_spark_benchmark_runs_and_finds_both_engines_equal(spark, tmp_path):
    """benchmarks/spark.py in a smoke size (the figures of RESULTS-SPARK.md come from its full size)."""
    from benchmarks.spark import run, write_results

    result = run(3000, 7, tmp_path / "work", session=spark)
    assert result["equal"], result["differences"]
    assert result["calls"] == 3000 and result["ue_rows"] > 0
    write_results(result, tmp_path / "RESULTS-SPARK.md")
    assert "Equal on both engines: yes" in (tmp_path / "RESULTS-SPARK.md").read_text()
