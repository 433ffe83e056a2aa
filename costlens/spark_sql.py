"""The SQL of sql/ run on an Apache Spark session, statement by statement, through the dialect layer.

A statement is transpiled just before it runs, so a `* EXCLUDE (…)` is written out from the columns Spark
reports for the tables and views that exist at that moment — those registered from the lake and those the
previous statements created. A DuckDB `TEMP TABLE` becomes a temporary view over rows computed once (a local
checkpoint), as DuckDB materialises it; an INSERT INTO or UPDATE of it replaces the view by the new rows.

pyspark is imported by the caller (it owns the session); this module only talks to it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from costlens.db import SPARK_SCRATCH
from costlens.dialect import Macro, is_macro, macros_in, parse_duckdb, shipped_macros, spark_statement
from costlens.sqlfiles import declarations, load_sql, render_sql
from costlens.sqlfiles import placeholders as sql_placeholders


class SparkSQLError(RuntimeError):
    """A statement Spark refused or failed to run: the file and statement, Spark's first line; `statement` is the
    DuckDB SQL it came from (COSTLENS_DEBUG shows it)."""

    def __init__(self, message: str, statement: str) -> None:
        super().__init__(message)
        self.statement = statement


def is_spark_error(error: BaseException) -> bool:
    """An error raised by pyspark or the JVM bridge (analysis, parse, runtime), not by costlens' own code."""
    module = type(error).__module__
    return module.startswith(("pyspark", "py4j"))


def _is_temporary(create: Any) -> bool:
    from sqlglot import exp

    properties = create.args.get("properties")
    return properties is not None and any(isinstance(p, exp.TemporaryProperty) for p in properties.expressions)


def tables_read(steps: Sequence[str]) -> list[str]:
    """The tables and views a chain of sql/ files reads and does not create itself (macros left out: they are
    inlined): what must be on Spark before the chain runs."""
    required: list[str] = []
    created: set[str] = set(shipped_macros())
    for step in steps:
        requires, creates = declarations(step)
        required += [n for n in requires if n not in created and n not in required]
        created |= set(creates)
    return required


# The session settings under which Spark computes what DuckDB computes:
SESSION_SETTINGS = {
    # DECIMAL(38, 18) × DECIMAL(18, 6) keeps its 24 decimals, as in DuckDB; by default Spark cuts a product's
    # scale to 6 when its exact precision passes 38 (money × a ratio would lose its sub-cent digits)
    "spark.sql.decimalOperations.allowPrecisionLoss": "false",
    # Spark 4.x's RemoveRedundantAliases turns the plan of sql/leaks/premium_overuse.sql (an alias kept through
    # a self-join of one CTE) into an invalid one and stops with PLAN_VALIDATION_FAILED_RULE_IN_BATCH; the rule
    # only renames, so leaving it out changes no result
    "spark.sql.optimizer.excludedRules": "org.apache.spark.sql.catalyst.optimizer.RemoveRedundantAliases",
    # constraint propagation (filters inferred from every alias and CASE of a projection) grows exponentially
    # with the pricing SQL's derived cost columns: sql/intermediate/store_call_costs.sql ran the driver out of a
    # 3 GiB heap planning 26,138 calls; without it, 2 s. It only adds inferred filters, never changes a result
    "spark.sql.constraintPropagation.enabled": "false",
    # timestamps are UTC instants with no zone, as costlens stores them
    "spark.sql.session.timeZone": "UTC",
}


class SparkSQL:
    """The tables and views of one Spark session that costlens' SQL reads and creates."""

    def __init__(self, session: Any) -> None:
        self.session = session
        self.columns: dict[str, dict[str, str]] = {}
        self.macros: dict[str, Macro] = {}
        self.shadowed: dict[str, str] = {}  # a view of main a TEMP view shadows → the name it is kept under
        self.definitions: dict[str, str] = {}  # a view of main → its query in Spark SQL
        # what DuckDB would list each relation as: ("table" | "view", temporary)
        self.kinds: dict[str, tuple[str, bool]] = {}
        for key, value in SESSION_SETTINGS.items():
            session.conf.set(key, value)

    def register_parquet(self, name: str, path: str) -> None:
        """A table of the lake (a Parquet file or folder) as the temporary view `name`."""
        self.register_frame(name, self.session.read.parquet(path))

    def register_frame(self, name: str, frame: Any) -> None:
        """A table of the lake (a DataFrame over its files) as the temporary view `name`."""
        frame.createOrReplaceTempView(name)
        self._learn(name)
        self.kinds[name.lower()] = ("table", False)

    def _learn(self, name: str) -> None:
        # only the names matter to star expansion; the type is a placeholder SQLGlot does not read
        self.columns[name.lower()] = {field.name: "TEXT" for field in self.session.table(name).schema.fields}

    def run_file(self, relative: str, **placeholders: str) -> None:
        """Every statement of sql/<relative>, in order (`{scratch}`: the session's views, as SparkConnection has it)."""
        if "scratch" in sql_placeholders(relative):
            placeholders = {"scratch": SPARK_SCRATCH, **placeholders}
        text = render_sql(relative, **placeholders) if placeholders else load_sql(relative)
        self.run(text, f"sql/{relative}")

    def run(self, text: str, origin: str) -> Any:
        """Every statement of `text`; the rows of the last one when it is a query (a Spark DataFrame)."""

        trees = parse_duckdb(text, origin)
        self.macros.update(macros_in(trees))  # a macro lives on for the session's later statements, as in DuckDB
        macros: dict[str, Macro] = {**shipped_macros(), **self.macros}
        last = None
        for number, tree in enumerate(trees, 1):
            if is_macro(tree):
                continue
            try:
                last = self._statement(tree, macros, origin)
            except Exception as error:
                if not is_spark_error(error):
                    raise
                first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
                raise SparkSQLError(f"{origin}, statement {number}: {first}", tree.sql(dialect="duckdb")) from None
        return last

    def _statement(self, tree: Any, macros: dict[str, Macro], origin: str) -> Any:
        """Run one statement; its rows when it is a query."""
        from sqlglot import exp

        kind = str(tree.args.get("kind", "")).upper() if isinstance(tree, exp.Create) else ""
        if isinstance(tree, exp.Drop) and self._drop_temp_only(tree):
            return None
        if kind == "VIEW" and _is_temporary(tree):
            self._shadow(tree.this.name)  # first: the view's own query may read the one it shadows
        tree = self._schemas_resolved(tree)
        if isinstance(tree, exp.Update):
            self._update(tree, macros, origin)
        elif isinstance(tree, exp.Insert) and isinstance(tree.this, exp.Table):
            self._append(tree.this.name, tree.expression, macros, origin, by_name=bool(tree.args.get("by_name")))
        elif kind == "TABLE" and tree.expression is None and isinstance(tree.this, exp.Schema):
            # CREATE TABLE t (column type, …): no rows, those columns
            columns = ", ".join(c.sql(dialect="spark") for c in tree.this.expressions)
            empty = self.session.createDataFrame([], columns)
            self._keep(tree.this.this.name, empty, replace=bool(tree.args.get("replace")))
        elif kind == "TABLE":
            self._materialise(tree.this.name, tree.expression, macros, origin)
        else:
            frame = self.session.sql(spark_statement(tree, macros, origin, self.columns))
            if isinstance(tree, exp.Create):
                self._learn(tree.this.name)
                self.kinds[tree.this.name.lower()] = ("view", _is_temporary(tree))
                if not _is_temporary(tree):  # a view of main: its query, should a TEMP view shadow it
                    self.definitions[tree.this.name.lower()] = spark_statement(
                        tree.expression, macros, origin, self.columns
                    )
            elif isinstance(tree, exp.Drop):
                for dropped in tree.args.get("tables") or []:
                    self.kinds.pop(dropped.name.lower(), None)
            elif isinstance(tree, exp.Query):
                return frame
        return None

    # DuckDB has two schemas costlens uses, main (the database's tables and views) and temp (a connection's);
    # a TEMP view may shadow a view of main, which stays readable as <catalog>.main.name (`report --prices
    # billed` shadows priced_calls so). Spark has one namespace of session views: the shadowed one is kept
    # under a hidden name while the shadow lives.

    def _schemas_resolved(self, tree: Any) -> Any:
        """`tree` with `<catalog>.main.t` naming the shadowed t while a TEMP view shadows it."""
        from sqlglot import exp

        def resolve(node: Any) -> Any:
            if isinstance(node, exp.Table) and node.db.lower() == SPARK_SCRATCH and not node.catalog:
                # the scratch database's tables (costlens.db.scratch_database) are session views like any other
                table = node.copy()
                table.set("db", None)
                return table
            if not (isinstance(node, exp.Table) and node.db.lower() == "main" and node.catalog.lower() != "temp"):
                return node
            hidden = self.shadowed.get(node.name.lower())
            if hidden is None:
                return node
            table = node.copy()
            table.set("this", exp.to_identifier(hidden))
            table.set("db", None)
            table.set("catalog", None)
            if not table.alias:  # columns qualified by the table's own name still find it
                table.set("alias", exp.TableAlias(this=exp.to_identifier(node.name)))
            return table

        return tree.transform(resolve)

    def _shadow(self, name: str) -> None:
        """Before a TEMP view `name` replaces a view of main: keep that one under its hidden name."""
        kind = self.kinds.get(name.lower())
        if kind is None or kind[1] or name.lower() in self.shadowed:
            return
        hidden = f"_costlens_main_{name.lower()}"
        definition = self.definitions.get(name.lower())
        if definition is None:  # a table of the lake: its rows, by reference
            self.session.table(name).createOrReplaceTempView(hidden)
        else:  # a view: its own query again (Spark would see hidden → name → hidden as a cycle)
            self.session.sql(f"CREATE OR REPLACE TEMPORARY VIEW {hidden} AS {definition}")
        self.columns[hidden] = self.columns.get(name.lower(), {})
        self.shadowed[name.lower()] = hidden

    def _drop_temp_only(self, drop: Any) -> bool:
        """DROP … temp.main.t: only a TEMP relation goes; a shadowed view of main comes back. True when done
        here (the statement is not for Spark)."""
        tables = drop.args.get("tables") or []
        if not (len(tables) == 1 and tables[0].catalog.lower() == "temp"):
            return False
        name = tables[0].name.lower()
        kind = self.kinds.get(name)
        if kind is not None and kind[1]:
            self.session.catalog.dropTempView(name)
            self.kinds.pop(name)
        hidden = self.shadowed.pop(name, None)
        if hidden is not None:
            definition = self.definitions.get(name)
            if definition is None:
                self.session.table(hidden).createOrReplaceTempView(name)
            else:
                self.session.sql(f"CREATE OR REPLACE TEMPORARY VIEW {name} AS {definition}")
            self.session.catalog.dropTempView(hidden)
            self.kinds[name] = ("view", False)
            self._learn(name)
        return True

    def _materialise(self, name: str, query: Any, macros: dict[str, Macro], origin: str) -> None:
        """CREATE TEMP TABLE: the rows computed once, as DuckDB materialises them."""
        frame = self._computed(self.session.sql(spark_statement(query, macros, origin, self.columns)))
        self._keep(name, frame, replace=True)

    def _keep(self, name: str, frame: Any, *, replace: bool) -> None:
        from costlens.dialect import DialectError

        if not replace and name.lower() in self.kinds:
            raise DialectError(f"table {name} already exists")
        frame.createOrReplaceTempView(name)
        self._learn(name)
        self.kinds[name.lower()] = ("table", True)

    @staticmethod
    def _computed(frame: Any) -> Any:
        """The frame's rows computed now and kept by the executors, its plan cut to them: a later statement
        reading it plans over the rows, not over every statement before (a cached view would keep the whole
        chain's plan, which the leak SQL over the period's tables grows past the driver's memory)."""
        return frame.localCheckpoint(eager=True)

    def _update(self, update: Any, macros: dict[str, Macro], origin: str) -> None:
        """UPDATE of a table: a temporary view cannot be updated, so the view is replaced by the rows the UPDATE
        leaves (dialect.update_as_query), computed; a FROM that qualifies a row twice is refused."""
        from costlens.dialect import DialectError, update_as_query

        name = update.this.name
        query = update_as_query(update, list(self.columns[name.lower()]), origin)
        before = self.session.table(name).count()
        frame = self._computed(self.session.sql(spark_statement(query, macros, origin, self.columns)))
        if frame.count() != before:
            raise DialectError(f"{origin}: UPDATE {name}: its FROM qualifies a row more than once")
        frame.createOrReplaceTempView(name)

    def _append(self, name: str, query: Any, macros: dict[str, Macro], origin: str, *, by_name: bool) -> None:
        """INSERT INTO [BY NAME] a table: a temporary view takes no rows, so the view is replaced by the union of
        its rows and the new ones, matched by position (or name) and cast to the table's types as INSERT does,
        computed like the table was."""
        from pyspark.sql import functions as F

        old = self.session.table(name)
        new = self.session.sql(spark_statement(query, macros, origin, self.columns))
        given = {c.lower(): c for c in new.columns}
        columns = [
            (F.col(given[f.name.lower()]) if f.name.lower() in given else F.lit(None))
            if by_name
            else F.col(f"`{new.columns[i]}`")
            for i, f in enumerate(old.schema.fields)
        ]
        new = new.select(*[c.cast(f.dataType).alias(f.name) for c, f in zip(columns, old.schema.fields)])
        self._computed(old.union(new)).createOrReplaceTempView(name)
        self.kinds.setdefault(name.lower(), ("table", True))

    def rows(self, query: str, origin: str = "query") -> list[Any]:
        """The rows of one DuckDB-dialect query, run on Spark."""
        trees = parse_duckdb(query, origin)
        if len(trees) != 1:
            raise ValueError(f"{origin}: one statement expected, {len(trees)} given")
        statement = spark_statement(trees[0], shipped_macros(), origin, self.columns)
        return list(self.session.sql(statement).collect())


def _literal(value: Any) -> Any:
    """A Python value bound to a `?` as the SQL literal of the same type."""
    import datetime as dt
    from decimal import Decimal

    from sqlglot import exp

    if value is None:
        return exp.Null()
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, int | float):
        return exp.Literal.number(repr(value))
    if isinstance(value, Decimal):
        digits = format(value, "f")
        scale = len(digits.split(".")[1]) if "." in digits else 0
        return exp.Cast(this=exp.Literal.string(digits), to=exp.DataType.build(f"DECIMAL(38, {min(scale, 38)})"))
    if isinstance(value, dt.datetime):
        return exp.Cast(this=exp.Literal.string(value.isoformat(sep=" ")), to=exp.DataType.build("TIMESTAMP"))
    if isinstance(value, dt.date):
        return exp.Cast(this=exp.Literal.string(value.isoformat()), to=exp.DataType.build("DATE"))
    if isinstance(value, list | tuple):
        return exp.Array(expressions=[_literal(v) for v in value])
    return exp.Literal.string(str(value))


def _bound(text: str, params: Sequence[Any] | Mapping[str, Any]) -> str:
    """DuckDB SQL with each `?` (in the order written) or `$name` replaced by the literal of its value; a `?`
    inside a string literal or a comment is not a parameter (the tokenizer tells them apart)."""
    from sqlglot.dialects.duckdb import DuckDB
    from sqlglot.tokens import TokenType

    tokens = DuckDB().tokenize(text)
    in_order = iter(params) if not isinstance(params, Mapping) else iter(())
    spans: list[tuple[int, int, Any]] = []  # (first character, last character, value)
    for i, token in enumerate(tokens):
        if token.token_type == TokenType.PLACEHOLDER and token.text == "?":
            spans.append((token.start, token.end, next(in_order)))
        elif token.token_type == TokenType.QDCOLON and token.text.startswith("?"):
            spans.append((token.start, token.start, next(in_order)))  # `?::TYPE` is read as one token
        elif token.token_type == TokenType.PARAMETER and isinstance(params, Mapping) and i + 1 < len(tokens):
            name = tokens[i + 1]  # `$` then the name
            spans.append((token.start, name.end, params[name.text]))
    if not isinstance(params, Mapping) and len(spans) != len(params):
        raise ValueError(f"{len(params)} parameters given, {len(spans)} placeholders found: {text[:80]}")
    pieces, at = [], 0
    for first, last, value in spans:
        pieces += [text[at:first], _literal(value).sql(dialect="duckdb")]
        at = last + 1
    return "".join(pieces) + text[at:]


def _python(value: Any) -> Any:
    """A value of a Spark row as DuckDB's Python client gives it (a struct as a dict, recursively)."""
    from pyspark.sql import Row

    if isinstance(value, Row):
        return {k: _python(v) for k, v in value.asDict(recursive=False).items()}
    if isinstance(value, list):
        return [_python(v) for v in value]
    if isinstance(value, dict):
        return {k: _python(v) for k, v in value.items()}
    return value


# `SET name = value` and `SELECT current_setting('name')`, answered by the connection itself
_SETTING = re.compile(
    r"SET\s+(?P<name>\w+)\s*=\s*(?P<value>.+)|SELECT\s+current_setting\('(?P<name2>\w+)'\)", re.IGNORECASE
)
_SETTING_DEFAULTS = {"threads": "2", "preserve_insertion_order": "true"}
_CATALOG_FUNCTION = re.compile(r"\b(duckdb_tables|duckdb_views)\(\)", re.IGNORECASE)


class SparkResult:
    """The rows of one statement, read like a DuckDB result (fetchall, fetchone, description, pl)."""

    def __init__(self, frame: Any | None, rows: list[tuple[Any, ...]] | None = None, names: Sequence[str] = ()) -> None:
        self.frame = frame
        self._rows = rows
        self._next = 0
        fields = frame.schema.fields if frame is not None else []
        self.description = [(f.name, str(f.dataType)) for f in fields] or [(n, "") for n in names]

    def _all(self) -> list[tuple[Any, ...]]:
        if self._rows is None:
            collected = self.frame.collect() if self.frame is not None else []
            self._rows = [tuple(_python(v) for v in row) for row in collected]
        return self._rows

    def fetchall(self) -> list[tuple[Any, ...]]:
        rows = self._all()[self._next :]
        self._next = len(self._all())
        return rows

    def fetchone(self) -> tuple[Any, ...] | None:
        rows = self._all()
        if self._next >= len(rows):
            return None
        self._next += 1
        return rows[self._next - 1]

    def to_arrow_table(self) -> Any:
        """The rows as an Arrow table, every column nullable as DuckDB's are (Spark marks a column it proves
        never NULL as not null, which a Parquet file would record)."""
        import pyarrow as pa

        assert self.frame is not None, "a statement without rows has no table"
        table = self.frame.toArrow()
        return table.cast(pa.schema([f.with_nullable(True) for f in table.schema]))

    def pl(self) -> Any:
        import polars as pl

        return pl.from_arrow(self.to_arrow_table())


class SparkConnection:
    """A Spark session read and written through the part of DuckDB's connection API that costlens' period,
    report, reconciliation and export code uses: `execute(sql, params)` with DuckDB SQL and `?` parameters,
    `register` of Arrow / polars data as a view. The SQL goes through the dialect layer, statement by statement
    (SparkSQL.run)."""

    engine = "spark"

    def __init__(self, session: Any) -> None:
        self.settings: dict[str, str] = {}
        self.runner = SparkSQL(session)
        self.session = session

    def execute(self, text: str, params: Sequence[Any] | None = None) -> SparkResult:

        origin = "query"
        if params:
            text = _bound(text, params)
        setting = _SETTING.fullmatch(text.strip().rstrip(";"))
        if setting:  # DuckDB's own knobs (threads, memory, progress): Spark's are the session's, not costlens'
            name, value = (setting.group("name") or setting.group("name2")).lower(), setting.group("value")
            if value is not None:
                self.settings[name] = value.strip().strip("'")
                return SparkResult(None)
            return SparkResult(None, [(self.settings.get(name, _SETTING_DEFAULTS.get(name)),)], [name])
        if _CATALOG_FUNCTION.search(text):
            text = self._with_catalog(text)
        return SparkResult(self.runner.run(text, origin))

    def _with_catalog(self, text: str) -> str:
        """DuckDB's duckdb_tables() / duckdb_views(), which costlens reads to ask whether a temp table exists,
        as views of what this session holds (the columns costlens reads)."""
        rows = sorted(self.runner.kinds.items())
        for kind, function in (("table", "duckdb_tables"), ("view", "duckdb_views")):
            listed = [(name, temporary, "temp" if temporary else "lake") for name, (k, temporary) in rows if k == kind]
            frame = self.session.createDataFrame(listed, f"{kind}_name string, temporary boolean, database_name string")
            frame.createOrReplaceTempView(f"_costlens_{function}")
        return _CATALOG_FUNCTION.sub(lambda m: f"_costlens_{m.group(1).lower()}", text)

    def table(self, name: str) -> SparkResult:
        return SparkResult(self.session.table(name))

    def sql(self, text: str) -> SparkResult:
        return self.execute(text)

    def register(self, name: str, data: Any) -> None:
        import pyarrow as pa

        table = data if isinstance(data, pa.Table) else data.to_arrow()
        self.session.createDataFrame(table).createOrReplaceTempView(name)
        self.runner._learn(name)

    def unregister(self, name: str) -> None:
        self.session.catalog.dropTempView(name)

    def begin(self) -> None:
        pass

    def commit(self) -> None:
        pass

    def rollback(self) -> None:
        pass

    def cursor(self) -> SparkConnection:
        return self

    def close(self) -> None:
        pass
