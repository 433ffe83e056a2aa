"""The SQL of sql/ run on an Apache Spark session, statement by statement, through the dialect layer.

A statement is transpiled just before it runs, so a `* EXCLUDE (…)` is written out from the columns Spark
reports for the tables and views that exist at that moment — those registered from the lake and those the
previous statements created. A DuckDB `TEMP TABLE` becomes a temporary view over rows computed once (a local
checkpoint), as DuckDB materialises it; an INSERT INTO or UPDATE of it replaces the view by the new rows.

pyspark is imported by the caller (it owns the session); this module only talks to it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from costlens.dialect import Macro, is_macro, macros_in, parse_duckdb, shipped_macros, spark_statement
from costlens.sqlfiles import declarations, load_sql, render_sql


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
    # timestamps are UTC instants with no zone, as costlens stores them
    "spark.sql.session.timeZone": "UTC",
}


class SparkSQL:
    """The tables and views of one Spark session that costlens' SQL reads and creates."""

    def __init__(self, session: Any) -> None:
        self.session = session
        self.columns: dict[str, dict[str, str]] = {}
        for key, value in SESSION_SETTINGS.items():
            session.conf.set(key, value)

    def register_parquet(self, name: str, path: str) -> None:
        """A table of the lake (a Parquet file or folder) as the temporary view `name`."""
        self.session.read.parquet(path).createOrReplaceTempView(name)
        self._learn(name)

    def _learn(self, name: str) -> None:
        # only the names matter to star expansion; the type is a placeholder SQLGlot does not read
        self.columns[name.lower()] = {field.name: "TEXT" for field in self.session.table(name).schema.fields}

    def run_file(self, relative: str, **placeholders: str) -> None:
        """Every statement of sql/<relative>, in order."""
        text = render_sql(relative, **placeholders) if placeholders else load_sql(relative)
        self.run(text, f"sql/{relative}")

    def run(self, text: str, origin: str) -> None:
        from sqlglot import exp

        trees = parse_duckdb(text, origin)
        macros: dict[str, Macro] = {**shipped_macros(), **macros_in(trees)}
        for tree in trees:
            if is_macro(tree):
                continue
            if isinstance(tree, exp.Update):
                self._update(tree, macros, origin)
                continue
            if isinstance(tree, exp.Insert) and isinstance(tree.this, exp.Table):
                self._append(tree.this.name, tree.expression, macros, origin)
                continue
            if isinstance(tree, exp.Create) and str(tree.args.get("kind", "")).upper() == "TABLE":
                self._materialise(tree.this.name, tree.expression, macros, origin)
                continue
            self.session.sql(spark_statement(tree, macros, origin, self.columns))
            if isinstance(tree, exp.Create):
                self._learn(tree.this.name)

    def _materialise(self, name: str, query: Any, macros: dict[str, Macro], origin: str) -> None:
        """CREATE TEMP TABLE: the rows computed once, as DuckDB materialises them."""
        frame = self._computed(self.session.sql(spark_statement(query, macros, origin, self.columns)))
        frame.createOrReplaceTempView(name)
        self._learn(name)

    @staticmethod
    def _computed(frame: Any) -> Any:
        """The frame's rows computed now and kept by the executors, its plan cut to them: a later statement
        reading it plans over the rows, not over every statement before (a cached view would keep the whole
        chain's plan, which the leak SQL over the period's tables grows past the driver's memory)."""
        return frame.localCheckpoint(eager=True)

    def _update(self, update: Any, macros: dict[str, Macro], origin: str) -> None:
        """UPDATE t [AS a] SET c = v, … [FROM s] [WHERE p]: a temporary view cannot be updated, so the view is
        replaced by t's rows with each set column computed where the row qualifies (a LEFT JOIN on the WHERE
        to the FROM, or the WHERE alone), computed. A FROM that qualifies a row twice would leave DuckDB to pick
        one of the values; here it would add rows, which is refused by counting them."""
        from sqlglot import exp

        from costlens.dialect import DialectError

        target = update.this
        name, alias = target.name, target.alias_or_name
        assignments = {eq.this.name.lower(): eq.expression for eq in update.expressions}
        condition = update.args["where"].this if update.args.get("where") else exp.true()
        matched = "_costlens_matched"
        source = update.args.get("from_")
        projections: list[exp.Expr] = []
        qualifies: exp.Expr = exp.column(matched, table="_costlens_source") if source else condition
        for column in self.columns[name.lower()]:
            old = exp.column(column, table=alias)
            if column.lower() in assignments:
                value = exp.Case().when(qualifies.copy(), assignments[column.lower()].copy()).else_(old)
                projections.append(exp.alias_(value, column))
            else:
                projections.append(exp.alias_(old, column))
        query = exp.select(*projections).from_(
            exp.Table(this=exp.to_identifier(name), alias=exp.TableAlias(this=exp.to_identifier(alias)))
        )
        if source is not None:
            source_alias = source.this.alias_or_name
            flagged = exp.select("*", exp.alias_(exp.true(), matched)).from_(source.this.copy())
            query = query.join(
                exp.Subquery(this=flagged, alias=exp.TableAlias(this=exp.to_identifier(source_alias))),
                on=condition.copy(),
                join_type="left",
            )
            # the flag is read through the source's alias
            for flag in query.find_all(exp.Column):
                if flag.name == matched:
                    flag.set("table", exp.to_identifier(source_alias))
        before = self.session.table(name).count()
        frame = self._computed(self.session.sql(spark_statement(query, macros, origin, self.columns)))
        if frame.count() != before:
            raise DialectError(f"{origin}: UPDATE {name}: its FROM qualifies a row more than once")
        frame.createOrReplaceTempView(name)

    def _append(self, name: str, query: Any, macros: dict[str, Macro], origin: str) -> None:
        """INSERT INTO a period's temp table: a temporary view takes no rows, so the view is replaced by the
        union of its rows and the new ones (by position, as INSERT matches them), computed like the table was."""
        old = self.session.table(name)
        new = self.session.sql(spark_statement(query, macros, origin, self.columns))
        self._computed(old.union(new)).createOrReplaceTempView(name)

    def rows(self, query: str, origin: str = "query") -> list[Any]:
        """The rows of one DuckDB-dialect query, run on Spark."""
        trees = parse_duckdb(query, origin)
        if len(trees) != 1:
            raise ValueError(f"{origin}: one statement expected, {len(trees)} given")
        statement = spark_statement(trees[0], shipped_macros(), origin, self.columns)
        return list(self.session.sql(statement).collect())
