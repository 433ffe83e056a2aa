"""The SQL in sql/ is written once, in DuckDB's dialect; this module turns it into Spark SQL through SQLGlot.

Spark has no macros, so the dialect layer's one real job is to inline them: every `CREATE MACRO` (the shared
ones in sql/schema/002_macros.sql, a grain's own TEMP macros) is read into a `Macro`, and each call is replaced
by the macro's body with its arguments substituted, until none is left. Table macros (`AS TABLE`) become
subqueries. What remains is DuckDB SQL without macros, which SQLGlot transpiles; a construct it cannot
express in Spark raises `DialectError` naming the file, never a silently different query.

sqlglot is imported here only: it is the `spark` extra's dependency, not the DuckDB engine's.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlglot import exp

# `name := default` in a macro's parameter list, which SQLGlot's DuckDB parser does not read: taken out of the
# header before parsing and kept as the parameter's default.
_DEFAULTED_PARAMETER = re.compile(r",\s*([a-z_][a-z0-9_]*)\s*:=\s*([^,()]+?)\s*(?=[,)])", re.IGNORECASE)
_MACRO_HEADER = re.compile(
    r"CREATE\s+(?:OR\s+REPLACE\s+)?(?:TEMP\s+|TEMPORARY\s+)?MACRO\s+([a-z_][a-z0-9_]*)\s*\(", re.IGNORECASE
)
# a `{name}` placeholder (sqlfiles.render_sql) stands for SQL the code builds; to read a file's macros it is
# parsed as a plain name
_PLACEHOLDER_FOR_PARSING = re.compile(r"\{[a-z_]+\}")
# a macro expanding into itself through others would never finish: no macro in sql/ nests this deep
_MAX_DEPTH = 32


class DialectError(ValueError):
    """SQL that cannot be carried to the target dialect as it is written."""


@dataclass(frozen=True)
class Macro:
    name: str
    parameters: tuple[str, ...]
    defaults: Mapping[str, exp.Expr]
    body: exp.Expr
    is_table: bool


def _strip_defaults(statement_text: str) -> tuple[str, dict[str, str]]:
    """The CREATE MACRO text without its `p := default` parameters, and those defaults as SQL text."""
    header = _MACRO_HEADER.search(statement_text)
    if header is None:
        return statement_text, {}
    depth, end = 1, header.end()
    while depth and end < len(statement_text):
        depth += {"(": 1, ")": -1}.get(statement_text[end], 0)
        end += 1
    parameters = statement_text[header.end() - 1 : end]
    defaults = {m.group(1).lower(): m.group(2) for m in _DEFAULTED_PARAMETER.finditer(parameters)}
    plain = _DEFAULTED_PARAMETER.sub("", parameters)
    return statement_text[: header.end() - 1] + plain + statement_text[end:], defaults


def _split_statements(text: str) -> list[str]:
    """The statements of a SQL file, split by SQLGlot's tokenizer (a ';' inside a literal does not split)."""
    from sqlglot.dialects.duckdb import DuckDB
    from sqlglot.tokens import TokenType

    tokens = DuckDB().tokenize(text)
    statements: list[str] = []
    start = 0
    for token in tokens:
        if token.token_type == TokenType.SEMICOLON:
            statements.append(text[start : token.start])
            start = token.end + 1
    statements.append(text[start:])
    return [s for s in statements if s.strip() and _has_code(s)]


def _has_code(statement: str) -> bool:
    return any(line.strip() and not line.strip().startswith("--") for line in statement.splitlines())


def parse_duckdb(text: str, origin: str) -> list[exp.Expr]:
    """The statements of DuckDB SQL text as SQLGlot trees; `origin` names the file in an error."""
    import sqlglot
    from sqlglot import exp as _exp

    trees: list[exp.Expr] = []
    for statement in _split_statements(text):
        statement, defaults = _strip_defaults(statement)
        try:
            tree = sqlglot.parse_one(statement, read="duckdb")
        except sqlglot.errors.ParseError as error:
            first_line = str(error).splitlines()[0]
            raise DialectError(f"{origin}: SQLGlot cannot read it as DuckDB SQL: {first_line}") from None
        if defaults:
            tree.meta["macro_defaults"] = {k: sqlglot.parse_one(v, read="duckdb") for k, v in defaults.items()}
        if isinstance(tree, _exp.Command):
            opening = statement.strip()[:80]
            raise DialectError(f"{origin}: SQLGlot reads a statement only as an opaque command: {opening}")
        trees.append(tree)
    return trees


def _as_macro(tree: exp.Expr) -> Macro | None:
    from sqlglot import exp as _exp

    if not (isinstance(tree, _exp.Create) and str(tree.args.get("kind", "")).upper() == "MACRO"):
        return None
    signature = tree.this
    name = signature.this.name.lower()
    parameters = tuple(p.name.lower() for p in signature.expressions)
    body = tree.expression
    is_table = isinstance(body, _exp.Query)
    defaults = tree.meta.get("macro_defaults", {})
    return Macro(name, parameters + tuple(defaults), defaults, body, is_table)


def is_macro(tree: exp.Expr) -> bool:
    """Whether a statement defines a macro (which Spark SQL has no statement for: its calls are inlined)."""
    return _as_macro(tree) is not None


def macros_in(trees: Iterable[exp.Expr]) -> dict[str, Macro]:
    """The macros a file's statements define, by name."""
    found: dict[str, Macro] = {}
    for tree in trees:
        macro = _as_macro(tree)
        if macro is not None:
            found[macro.name] = macro
    return found


def _call_name(node: exp.Expr) -> str | None:
    from sqlglot import exp as _exp

    if isinstance(node, _exp.Anonymous):
        return str(node.this).lower()
    if isinstance(node, _exp.Func):
        # a macro whose name SQLGlot happens to know as a function (its parser built a typed node)
        return node.sql_name().lower()
    return None


def _bind(macro: Macro, call: exp.Expr, origin: str) -> dict[str, exp.Expr]:
    from sqlglot import exp as _exp

    positional: list[exp.Expr] = []
    named: dict[str, exp.Expr] = {}
    arguments = call.expressions if isinstance(call, _exp.Anonymous) else list(call.iter_expressions())
    for argument in arguments:
        if isinstance(argument, _exp.PropertyEQ | _exp.Kwarg):
            named[argument.this.name.lower()] = argument.expression
        else:
            positional.append(argument)
    if len(positional) > len(macro.parameters):
        raise DialectError(f"{origin}: {macro.name} takes {len(macro.parameters)} arguments, given {len(positional)}")
    bound = dict(zip(macro.parameters, positional))
    for parameter in macro.parameters[len(positional) :]:
        value = named.get(parameter, macro.defaults.get(parameter))
        if value is None:
            raise DialectError(f"{origin}: {macro.name} is called without its argument {parameter}")
        bound[parameter] = value
    return bound


def _substitute(body: exp.Expr, bound: Mapping[str, exp.Expr]) -> exp.Expr:
    from sqlglot import exp as _exp

    def replace(node: exp.Expr) -> exp.Expr:
        if isinstance(node, _exp.Column) and not node.table and node.name.lower() in bound:
            value = bound[node.name.lower()].copy()
            # an argument that is an operation keeps its own precedence inside the body
            atomic = isinstance(value, _exp.Column | _exp.Literal | _exp.Null | _exp.Boolean)
            return value if atomic else _exp.paren(value)
        return node

    return body.copy().transform(replace)


def expand_macros(tree: exp.Expr, macros: Mapping[str, Macro], origin: str) -> exp.Expr:
    """`tree` with every call of a macro replaced by its body (scalar macros) or a subquery (table macros)."""
    from sqlglot import exp as _exp

    for _ in range(_MAX_DEPTH):
        calls = [node for node in tree.find_all(_exp.Func) if (_call_name(node) or "") in macros]
        if not calls:
            return tree
        for call in calls:
            macro = macros[_call_name(call) or ""]
            expansion = _substitute(macro.body, _bind(macro, call, origin))
            if macro.is_table:
                parent = call.parent
                alias = parent.args.get("alias") if isinstance(parent, _exp.Table) else None
                replacement: exp.Expr = _exp.Subquery(this=expansion, alias=alias.copy() if alias else None)
                (parent if isinstance(parent, _exp.Table) else call).replace(replacement)
            else:
                call.replace(expansion)
    raise DialectError(f"{origin}: macros nest deeper than {_MAX_DEPTH} levels (a macro calling itself?)")


# the columns of the tables and views a statement reads, by name (in order): what `* EXCLUDE (…)`,
# `* REPLACE (…)` need to be written out for Spark
Schema = Mapping[str, Mapping[str, str]]


def to_spark(
    text: str, origin: str, shared: Mapping[str, Macro] | None = None, schema: Schema | None = None
) -> list[str]:
    """Spark SQL statements for DuckDB SQL text: its macro definitions dropped, every macro call (the file's own
    and `shared`) inlined, the rest transpiled by SQLGlot. Raises DialectError for what Spark cannot express."""
    return transpile(text, origin, shared, "spark", schema)


def transpile(
    text: str, origin: str, shared: Mapping[str, Macro] | None, target: str, schema: Schema | None = None
) -> list[str]:
    """DuckDB SQL text as statements of `target` ("spark", or "duckdb": the same SQL with its macros inlined,
    which is how the inlining itself is tested), macro definitions dropped. With `schema`, a `*` that names
    columns to leave out or replace is written out column by column (Spark has no such star)."""
    trees = parse_duckdb(text, origin)
    macros = {**(shared or {}), **macros_in(trees)}
    return [_one_statement(tree, macros, origin, target, schema) for tree in trees if _as_macro(tree) is None]


def spark_statement(tree: exp.Expr, macros: Mapping[str, Macro], origin: str, schema: Schema | None = None) -> str:
    """One parsed DuckDB statement (not a macro definition) as Spark SQL."""
    return _one_statement(tree, macros, origin, "spark", schema)


def _one_statement(
    tree: exp.Expr,
    macros: Mapping[str, Macro],
    origin: str,
    target: str,
    schema: Schema | None,
) -> str:
    from sqlglot import exp as _exp
    from sqlglot.errors import ErrorLevel, UnsupportedError

    expanded = expand_macros(tree, macros, origin)
    if target == "spark" and isinstance(expanded, _exp.Update) and schema is not None:
        # Spark's session views take no UPDATE: the statement is the query of the rows it leaves (what the
        # runner, costlens.spark_sql, replaces the view with)
        expanded = update_as_query(expanded, list(schema.get(expanded.this.name.lower(), {})), origin)
    if target == "spark":
        if schema is not None:
            expanded = _expand_stars(expanded, schema, origin)
        expanded = _rewrite_for_spark(expanded)
    try:
        return expanded.sql(dialect=target, unsupported_level=ErrorLevel.RAISE)
    except UnsupportedError as error:
        raise DialectError(f"{origin}: {str(error).splitlines()[0]}") from None


# the flag a LEFT JOIN of an UPDATE's FROM sets on the rows it qualifies
UPDATE_MATCHED = "_costlens_matched"


def update_as_query(update: exp.Update, columns: list[str], origin: str) -> exp.Select:
    """UPDATE t [AS a] SET c = v, … [FROM s] [WHERE p] as the query of t's rows after it, `columns` being t's
    columns in order: each set column computed where the row qualifies — flagged by a LEFT JOIN on the WHERE
    to the FROM, or by the WHERE alone — the others as they are. A FROM that qualifies a row twice adds rows
    here (DuckDB picks one of the values): the runner refuses that by counting them."""
    from sqlglot import exp as _exp

    if not columns:
        raise DialectError(f"{origin}: UPDATE {update.this.name}: its columns are not known")
    target = update.this
    name, alias = target.name, target.alias_or_name
    assignments = {eq.this.name.lower(): eq.expression for eq in update.expressions}
    condition = update.args["where"].this if update.args.get("where") else _exp.true()
    source = update.args.get("from_")
    qualifies: exp.Expr = _exp.column(UPDATE_MATCHED, table="_costlens_source") if source else condition
    projections: list[exp.Expr] = []
    for column in columns:
        old = _exp.column(column, table=alias)
        if column.lower() in assignments:
            value = _exp.Case().when(qualifies.copy(), assignments[column.lower()].copy()).else_(old)
            projections.append(_exp.alias_(value, column))
        else:
            projections.append(_exp.alias_(old, column))
    query = _exp.select(*projections).from_(
        _exp.Table(this=_exp.to_identifier(name), alias=_exp.TableAlias(this=_exp.to_identifier(alias)))
    )
    if source is not None:
        source_alias = source.this.alias_or_name
        flagged = _exp.select("*", _exp.alias_(_exp.true(), UPDATE_MATCHED)).from_(source.this.copy())
        query = query.join(
            _exp.Subquery(this=flagged, alias=_exp.TableAlias(this=_exp.to_identifier(source_alias))),
            on=condition.copy(),
            join_type="left",
        )
        for flag in query.find_all(_exp.Column):  # the flag is read through the source's alias
            if flag.name == UPDATE_MATCHED:
                flag.set("table", _exp.to_identifier(source_alias))
    return query


# --- DuckDB constructs Spark has no word for, each rewritten to one with the same result -----------------------


def _expand_stars(tree: exp.Expr, schema: Schema, origin: str) -> exp.Expr:
    """`tree` with each `* EXCLUDE (…) REPLACE (…)` written out from `schema`, in the table's column order (the
    order DuckDB gives): SQLGlot's own star expansion, applied to a statement only when it has such a star."""
    from sqlglot import exp as _exp
    from sqlglot.errors import OptimizeError
    from sqlglot.optimizer.qualify import qualify

    by_name = any(union.args.get("by_name") for union in tree.find_all(_exp.Union))
    if not by_name and not any(
        star.args.get("except_") or star.args.get("replace") for star in tree.find_all(_exp.Star)
    ):
        return tree
    query = tree.expression if isinstance(tree, _exp.Create) else tree
    try:
        expanded = qualify(
            query.copy(),
            schema={name: dict(columns) for name, columns in schema.items()},
            dialect="duckdb",
            expand_stars=True,
            validate_qualify_columns=False,
            quote_identifiers=False,
            identify=False,
            isolate_tables=False,
        )
    except OptimizeError as error:
        raise DialectError(f"{origin}: cannot write out its * columns: {error}") from None
    expanded = expanded.transform(_union_by_position)
    if isinstance(tree, _exp.Create):
        tree = tree.copy()
        tree.set("expression", expanded)
        return tree
    return expanded


def _union_by_position(node: exp.Expr) -> exp.Expr:
    """A UNION [ALL] BY NAME whose sides name their columns: the right side's columns put in the left side's
    order, a column one side lacks given as NULL on it (DuckDB's rule: the left side's columns first, then
    the right side's new ones). A chain (a BY NAME b BY NAME c) is done from the left."""
    from sqlglot import exp as _exp

    if not (isinstance(node, _exp.Union) and node.args.get("by_name")):
        return node
    left, right = node.this, node.expression
    if isinstance(left, _exp.Union):
        left = _union_by_position(left)
    left_names = _output_names(left)
    if left_names is None or not isinstance(right, _exp.Select):
        return node
    if any(isinstance(p, _exp.Star) for p in right.expressions):
        return node
    right_by_name = {p.alias_or_name.lower(): p for p in right.expressions}
    known = {n.lower() for n in left_names}
    new = [p.alias_or_name for p in right.expressions if p.alias_or_name.lower() not in known]
    if new and not isinstance(left, _exp.Select):
        return node  # columns to add to every SELECT of the left chain: left for SQLGlot to report
    names = left_names + new

    def side(by_name: dict[str, exp.Expr]) -> list[exp.Expr]:
        return [by_name[n.lower()].copy() if n.lower() in by_name else _exp.alias_(_exp.Null(), n) for n in names]

    left, right = left.copy(), right.copy()
    if isinstance(left, _exp.Select):
        left.set("expressions", side({p.alias_or_name.lower(): p for p in left.expressions}))
    right.set("expressions", side(right_by_name))
    union = node.copy()
    union.set("this", left)
    union.set("expression", right)
    union.set("by_name", None)
    return union


def _output_names(query: exp.Expr) -> list[str] | None:
    """The column names a SELECT (or a union, by its first SELECT) gives, or None when a * is left in it."""
    from sqlglot import exp as _exp

    while isinstance(query, _exp.Union):
        query = query.this
    if not isinstance(query, _exp.Select) or any(isinstance(p, _exp.Star) for p in query.expressions):
        return None
    return [p.alias_or_name for p in query.expressions]


def _rewrite_for_spark(tree: exp.Expr) -> exp.Expr:
    """Every construct of `tree` in its Spark form. SQLGlot's transform does not revisit a subtree it has just
    rewritten (an ordered list() around a try()), so it runs until nothing changes."""
    for _ in range(_MAX_DEPTH):
        rewritten = tree.transform(_spark_construct)
        if rewritten == tree:
            return rewritten
        tree = rewritten
    return tree


def _spark_construct(node: exp.Expr) -> exp.Expr:
    from sqlglot import exp as _exp

    if isinstance(node, _exp.DataType) and node.this == _exp.DataType.Type.INT128:
        # HUGEINT: Spark's widest exact integer is DECIMAL(38, 0) (the same 38 digits costlens' money uses)
        return _exp.DataType.build("DECIMAL(38, 0)")
    if isinstance(node, _exp.Table) and (node.args.get("catalog") or node.args.get("db")):
        if node.db.lower() == "main" or {node.catalog.lower(), node.db.lower()} <= {"temp", "main", ""}:
            # temp.main.t / main.t / <database>.main.t: DuckDB's schemas of one database; on Spark every table
            # is a session view (a shadowed view of main: costlens.spark_sql.SparkSQL._schemas_resolved)
            node.set("catalog", None)
            node.set("db", None)
            return node
    if isinstance(node, _exp.Filter) and _ordered_aggregate(node.this):
        # agg(…) FILTER (WHERE c): the filter goes on the collect inside the rewrite
        return _ordered_aggregate(node.this, node.expression.this) or node
    rewritten = _ordered_aggregate(node)
    if rewritten is not None:
        return rewritten
    if isinstance(node, _exp.ArgMin | _exp.ArgMax) and isinstance(node.expression, _exp.Tuple | _exp.Struct):
        if not node.meta.get("spark_key"):
            node.set("expression", _as_struct(node.expression))
            node.meta["spark_key"] = True
        return node
    if isinstance(node, _exp.Create) and str(node.args.get("kind", "")).upper() == "VIEW":
        properties = node.args.get("properties")
        if not (properties and any(isinstance(p, _exp.TemporaryProperty) for p in properties.expressions)):
            # a view of the database (priced_calls) over the lake's tables, which are session views on Spark
            # and which a persistent view may not read: a view of the session as well
            node.set("properties", _exp.Properties(expressions=[_exp.TemporaryProperty()]))
            return node
    if isinstance(node, _exp.Create) and str(node.args.get("kind", "")).upper() == "TABLE":
        properties = node.args.get("properties")
        if properties and any(isinstance(p, _exp.TemporaryProperty) for p in properties.expressions):
            # a TEMP TABLE of a period is a temporary view on Spark (the runner caches it); OR REPLACE kept
            node.set("kind", "VIEW")
            return node
    if isinstance(node, _exp.Window) and isinstance(node.this, _exp.RowNumber) and _empty_window(node):
        # row_number() OVER (): sql/ uses it only as a unique number per row (task_costs.task_no); Spark would
        # move every row to one partition to count them, monotonically_increasing_id() numbers them in place
        return _exp.Anonymous(this="monotonically_increasing_id", expressions=[])
    if (
        isinstance(node, _exp.Explode)
        and isinstance(node.this, _exp.Array)
        and all(isinstance(e, _exp.Struct) for e in node.this.expressions)
        and any(
            isinstance(a, _exp.PropertyEQ) and a.this.name.lower() == "recursive" and a.expression.this is True
            for a in node.expressions
        )
    ):
        # unnest([{…}, {…}], recursive := true) in a SELECT list: a row per struct, a column per field: inline()
        return _exp.func("inline", node.this.copy())
    if (
        isinstance(node, _exp.Anonymous)
        and str(node.this).lower() == "timezone"
        and len(node.expressions) == 2
        and _literal_text(node.expressions[0]) == "UTC"
    ):
        # timezone('UTC', t): the UTC wall time t as an instant; Spark's TIMESTAMP is an instant, read in the
        # session's zone, which costlens sets to UTC (spark_sql.SESSION_SETTINGS)
        return _exp.Cast(this=node.expressions[1].copy(), to=_exp.DataType.build("TIMESTAMPTZ"))
    if isinstance(node, _exp.TimeToStr) and _literal_text(node.args.get("format")) and not node.meta.get("quoted"):
        # strftime(t, '%Y-%m-%dT%H:%M:%SZ'): letters outside a %-field are literal text to DuckDB, but pattern
        # letters to Spark's formatter ('T' is refused, 'Z' would print the zone offset): quoted for Spark
        pattern = _literal_text(node.args["format"]) or ""
        node.set("format", _exp.Literal.string(_STRFTIME_LETTERS.sub(lambda m: f"'{m.group(0)}'", pattern)))
        node.meta["quoted"] = True
        return node
    if isinstance(node, _exp.RegexpReplace):
        return _regexp_replace(node)
    if isinstance(node, _exp.Anonymous) and str(node.this).lower() == "hash":
        # hash(…): DuckDB's is 64 bits, Spark's hash() 32 (identities of price rows would collide sooner);
        # xxhash64 is Spark's 64-bit one. hash(r) of a table alias hashes the whole row: struct(r.*)
        sources = _source_aliases(node)
        arguments = [
            _exp.func("struct", _exp.Column(this=_exp.Star(), table=_exp.to_identifier(a.name)))
            if isinstance(a, _exp.TableColumn)
            or (isinstance(a, _exp.Column) and not a.table and a.name.lower() in sources)
            else a.copy()
            for a in node.expressions
        ]
        return _exp.Anonymous(this="xxhash64", expressions=arguments)
    if isinstance(node, _exp.Anonymous) and str(node.this).lower() == "list_sum" and len(node.expressions) == 1:
        return _list_sum(node.expressions[0])
    if isinstance(node, _exp.JSONType):
        rewritten_type = _json_type(node.this, *([node.expression] if node.expression else []))
        if rewritten_type is not None:
            return rewritten_type
    if isinstance(node, _exp.Anonymous) and str(node.this).lower() in _FUNCTIONS:
        rewritten = _FUNCTIONS[str(node.this).lower()](*[a.copy() for a in node.expressions])
        if rewritten is not None:
            return rewritten
    if isinstance(node, _exp.Format) and _literal_text(node.this) is not None and not node.meta.get("printf"):
        # format('{} … {:,.2f}', …): DuckDB reads fmt's patterns, Spark's format_string printf's
        pattern = _literal_text(node.this) or ""
        node.set("this", _exp.Literal.string(_fmt_as_printf(pattern)))
        # a %f field takes a Java double (Spark would hand it its own Decimal, which the formatter refuses): the
        # value is one a pattern of 2 decimals prints the same either way
        fields = [f.group(1) for f in _FMT_FIELD.finditer(pattern)]
        arguments = list(node.expressions)
        for i, spec in enumerate(fields):
            if spec and spec.endswith("f") and i < len(arguments):
                arguments[i] = _exp.Cast(this=arguments[i].copy(), to=_exp.DataType.build("DOUBLE"))
        node.set("expressions", arguments)
        node.meta["printf"] = True
        return node
    if isinstance(node, _exp.Div) and not node.meta.get("double"):
        # DuckDB's `/` divides in DOUBLE whatever the operands (DECIMAL / DECIMAL too); Spark's keeps a DECIMAL
        # and cuts its scale to 6
        node.set("this", _exp.Cast(this=node.this.copy(), to=_exp.DataType.build("DOUBLE")))
        node.meta["double"] = True
        return node
    if (
        isinstance(node, _exp.Cast)
        and not isinstance(node, _exp.TryCast)
        and node.to.this in _integer_types()
        and isinstance(node.this.unnest(), _computed_numbers())
    ):
        # a computed number (a DOUBLE in DuckDB) to an integer: DuckDB rounds half to even (5249.5 → 5250,
        # 2.5 → 2), Spark cuts (5249): bround is the same rounding
        node.set("this", _exp.func("bround", node.this.copy()))
        return node
    if (
        isinstance(node, _exp.Filter | _exp.Window)
        and isinstance(node.this, _exp.Avg)
        and not node.this.meta.get("mean")
    ):
        return _mean(node.this, node)
    if (
        isinstance(node, _exp.Avg)
        and not node.meta.get("mean")
        and not isinstance(node.parent, _exp.Filter | _exp.Window)
    ):
        return _mean(node, None)
    if isinstance(node, _exp.DateDiff) and node.args.get("unit") is not None and not node.meta.get("boundaries"):
        # date_diff('second', a, b) counts the second boundaries between a and b (0.9 s → 1.1 s is 1); Spark's
        # DATEDIFF counts whole seconds elapsed (0): both ends truncated to the unit first, they agree
        unit = _exp.Literal.string(node.args["unit"].name.upper())
        node.set("this", _exp.TimestampTrunc(this=node.this.copy(), unit=unit.copy()))
        node.set("expression", _exp.TimestampTrunc(this=node.expression.copy(), unit=unit.copy()))
        node.meta["boundaries"] = True
        return node
    if isinstance(node, _exp.PercentileCont) and node.expression is not None and not node.args.get("order"):
        # quantile_cont(x, q): Spark's percentile(x, q) interpolates between the same two values ((n - 1) × q
        # between ranks), as (c - r) × lo + (r - f) × hi; DuckDB's build computes lo × (1 - d) + hi × d with a
        # fused multiply-add (fma(lo, 1 - d, hi × d): 0 of 3,000 random groups differ), which Spark SQL cannot
        # write: the two can differ in the last bit of a DOUBLE (a p95 of 0.04749625 is 0.047496250000000004)
        return _exp.Anonymous(this="percentile", expressions=[node.this.copy(), node.expression.copy()])
    if isinstance(node, _exp.CTE) and node.args.get("materialized") is not None:
        # AS [NOT] MATERIALIZED is a hint to DuckDB's planner; Spark decides for itself
        node.set("materialized", None)
        return node
    if isinstance(node, _exp.IgnoreNulls) and isinstance(node.this, _exp.AnyValue | _exp.First | _exp.Last):
        # any_value(x) skips NULLs in DuckDB; Spark says so with its second argument, which a FILTER may follow
        aggregate = node.this
        return _exp.Anonymous(this=aggregate.sql_name(), expressions=[aggregate.this.copy(), _exp.true()])
    if isinstance(node, _exp.Anonymous) and str(node.this).lower() == "json_merge_patch":
        merged = _merged_objects(*node.expressions) if len(node.expressions) == 2 else None
        if merged is not None:
            return merged
    if isinstance(node, _exp.JSONObject) and not node.expressions:
        return _exp.Literal.string("{}")  # json_object(): the empty object (Spark has no empty struct)
    if isinstance(node, _exp.JSONObject):
        # json_object(k, v, …) → a JSON text of a struct; a json_object inside one nests as an object, not a string
        # …with its NULL members written as null, as DuckDB writes them (Spark's to_json leaves them out)
        keep_nulls = _exp.Anonymous(
            this="map", expressions=[_exp.Literal.string("ignoreNullFields"), _exp.Literal.string("false")]
        )
        return _exp.func("to_json", _named_struct(node), keep_nulls)
    if isinstance(node, _exp.Bracket) and len(node.expressions) == 1 and isinstance(node.expressions[0], _exp.Slice):
        # list[a:b]: DuckDB's slice is 1-based and includes b; Spark's slice(list, start, length)
        bounds = node.expressions[0]
        if bounds.this is not None and bounds.expression is not None:
            sliced = _list_slice(node.this.copy(), bounds.this.copy(), bounds.expression.copy())
            if sliced is not None:  # a negative end counts from the last, as list_slice's
                return sliced
    if isinstance(node, _exp.ToMap) and isinstance(node.this, _exp.Struct):
        # MAP {k: v, …} → map(k, v, …)
        entries: list[exp.Expr] = []
        for entry in node.this.expressions:
            if not isinstance(entry, _exp.PropertyEQ):
                return node
            entries += [entry.this.copy(), entry.expression.copy()]
        return _exp.Anonymous(this="map", expressions=entries)
    if isinstance(node, _exp.RegexpFullMatch):
        # regexp_full_match(x, p): the whole text matches; Spark's RLIKE finds a match anywhere
        pattern = node.expression
        if isinstance(pattern, _exp.Literal) and pattern.is_string:
            anchored: exp.Expr = _exp.Literal.string(f"^(?:{pattern.this})$")
        else:
            anchored = _exp.func("concat", _exp.Literal.string("^(?:"), pattern.copy(), _exp.Literal.string(")$"))
        return _exp.RegexpLike(this=node.this.copy(), expression=anchored)
    if isinstance(node, _exp.Glob):
        return _exp.RegexpLike(this=node.this.copy(), expression=_glob_as_regex(node.expression))
    if isinstance(node, _exp.Try):
        inner = node.this.unnest()
        if _is_json_read(inner):
            # try() around a JSON read: Spark's JSON functions already give NULL for text that is not JSON
            return inner
        if isinstance(inner, _exp.FromBase64):
            # try(from_base64(x)): NULL for text that is not base64 — DuckDB's strict alphabet and padding, where
            # Spark's try_to_binary would also read unpadded text
            return _bound(inner.this.copy(), _base64_or_null)
        if isinstance(inner, _exp.Add):
            # try(a + b): NULL on overflow, which Spark's try_add gives for numbers and for time + interval
            return _exp.func("try_add", inner.this.copy(), inner.expression.copy())
    return node


# --- DuckDB functions Spark names or shapes differently (each has a same-value test on both engines) -----------


def _bound(value: exp.Expr, build: Any) -> exp.Expr:
    """build(v) with v bound to `value` once — element_at(transform(array(value), v -> build(v)), 1) — where a
    rewrite reads its argument several times: the argument (often a whole macro expansion) is written and
    computed once, not once per read (Spark's parser slows with the statement's length)."""
    from sqlglot import exp as _exp

    if isinstance(value, _exp.Column | _exp.Literal):  # cheap to repeat
        return build(value)
    # named after the value: the SQL is the same on every run, and a name bound twice means the same value
    name = _exp.to_identifier(f"_costlens_v{zlib.crc32(value.sql(dialect='duckdb').encode()):08x}")
    body = build(_exp.column(name.copy()))
    mapped = _exp.Anonymous(
        this="transform", expressions=[_exp.Array(expressions=[value]), _exp.Lambda(this=body, expressions=[name])]
    )
    return _exp.Anonymous(this="element_at", expressions=[mapped, _exp.Literal.number(1)])


def _isfinite(x: exp.Expr, *rest: exp.Expr) -> exp.Expr | None:
    """isfinite(x): neither NaN nor ±Infinity, NULL for NULL (Spark's isnan(NULL) is false, abs(NULL) NULL)."""
    from sqlglot import exp as _exp

    if rest:
        return None
    infinity = _exp.Cast(this=_exp.Literal.string("Infinity"), to=_exp.DataType.build("DOUBLE"))
    is_nan = _exp.Anonymous(this="isnan", expressions=[x.copy()])
    return _exp.Not(this=_exp.paren(_exp.or_(is_nan, _exp.EQ(this=_exp.Abs(this=x), expression=infinity))))


# DuckDB's strptime reads each field greedily, never giving a digit back (%Y 1–4 digits, the others 1–2), a run
# of whitespace in the format as any run of whitespace, and ignores whitespace around the text: a regular
# expression with possessive quantifiers reads the same. Java's DateTimeFormatter would differ (its "yy" is
# 2000–2099, where DuckDB's %y is 1969–2068; "M" reads "001").
_STRPTIME_FIELDS = {
    "Y": "([0-9]{1,4}+)",
    "y": "([0-9]{1,2}+)",
    "m": "([0-9]{1,2}+)",
    "d": "([0-9]{1,2}+)",
    "H": "([0-9]{1,2}+)",
    "I": "([0-9]{1,2}+)",
    "M": "([0-9]{1,2}+)",
    "S": "([0-9]{1,2}+)",
    "p": "([AaPp][Mm])",
}


def _strptime_fields(pattern: str) -> tuple[str, list[str]]:
    """A strptime pattern as an anchored regular expression and its fields, in order; another field is refused."""
    regex, fields = [r"^\s*"], []
    for part in re.findall(r"%.|\s+|[^%\s]+", pattern):
        if part.startswith("%"):
            if part[1:] not in _STRPTIME_FIELDS:
                raise DialectError(f"strptime field {part} has no counterpart here")
            regex.append(_STRPTIME_FIELDS[part[1:]])
            fields.append(part[1:])
        else:
            regex.append(r"\s+" if part.isspace() else re.escape(part))
    regex.append(r"\s*$")
    if ("I" in fields) != ("p" in fields) or "H" in fields and "I" in fields:
        raise DialectError(f"strptime pattern {pattern!r}: %I goes with %p, never with %H")
    return "".join(regex), fields


def _strptime(text: exp.Expr, pattern: str) -> exp.Expr:
    """strptime(x, pattern) or NULL: the fields read by the regular expression, the time made of them
    (try_make_timestamp: NULL for a day or hour that does not exist, as DuckDB's). Year 0 — 1 BC to DuckDB — is
    NULL here: every caller keeps only times from 2000 on."""
    from sqlglot import exp as _exp

    regex, fields = _strptime_fields(pattern)

    def field(letter: str) -> exp.Expr:
        extracted = _exp.Anonymous(
            this="regexp_extract",
            expressions=[text.copy(), _exp.Literal.string(regex), _exp.Literal.number(fields.index(letter) + 1)],
        )
        return extracted if letter == "p" else _exp.Cast(this=extracted, to=_exp.DataType.build("INT"))

    def number(value: int) -> exp.Expr:
        return _exp.Literal.number(value)

    if "Y" in fields:
        year = field("Y")
    else:  # %y: 69–99 are 1969–1999, 0–68 2000–2068
        two = field("y")
        year = _exp.Add(
            this=two,
            expression=_exp.If(
                this=_exp.LT(this=two.copy(), expression=number(69)), true=number(2000), false=number(1900)
            ),
        )
    if "I" in fields:  # 12-hour clock: 1–12, 12 AM is 0, PM adds 12
        hour12 = field("I")
        pm = _exp.EQ(this=_exp.Upper(this=field("p")), expression=_exp.Literal.string("PM"))
        hour: exp.Expr = _exp.Case().when(
            _exp.Between(this=hour12, low=number(1), high=number(12)),
            _exp.Add(
                this=_exp.Mod(this=hour12.copy(), expression=number(12)),
                expression=_exp.If(this=pm, true=number(12), false=number(0)),
            ),
        )
    else:
        hour = field("H") if "H" in fields else number(0)
    parts = [year, *(field(f) if f in fields else number(default) for f, default in (("m", 1), ("d", 1)))]
    parts += [hour, *(field(f) if f in fields else number(0) for f in ("M", "S"))]
    made = _exp.Anonymous(this="try_make_timestamp", expressions=parts)
    matches = _exp.RegexpLike(this=text.copy(), expression=_exp.Literal.string(regex))
    return _exp.Case().when(matches, made)


def _try_strptime(text: exp.Expr, formats: exp.Expr, *rest: exp.Expr) -> exp.Expr | None:
    """try_strptime(x, fmt | [fmt, …]): the first format that reads x, else NULL."""
    from sqlglot import exp as _exp

    patterns = [_literal_text(p) for p in (formats.expressions if isinstance(formats, _exp.Array) else [formats])]
    if rest or any(p is None for p in patterns):
        return None

    def first_read(value: exp.Expr) -> exp.Expr:
        tries = [_strptime(value, p) for p in patterns if p is not None]
        return tries[0] if len(tries) == 1 else _exp.Coalesce(this=tries[0], expressions=tries[1:])

    return _bound(text, first_read)


def _list_position(values: exp.Expr, value: exp.Expr, *rest: exp.Expr) -> exp.Expr | None:
    """list_position(l, v): 1-based, NULL when absent (Spark's array_position says 0)."""
    from sqlglot import exp as _exp

    if rest:
        return None
    found = _exp.Anonymous(this="array_position", expressions=[values, value])
    return _exp.Nullif(this=found, expression=_exp.Literal.number(0))


def _list_slice(values: exp.Expr, begin: exp.Expr, end: exp.Expr, *rest: exp.Expr) -> exp.Expr | None:
    """list_slice(l, b, e) with b ≥ 1: elements b … e, 1-based and inclusive, a negative e counting from the end
    (-1 the last) — Spark's slice(l, start, length)."""
    from sqlglot import exp as _exp

    if rest or not (isinstance(begin, _exp.Literal) and not begin.is_string and int(begin.this) >= 1):
        return None
    first = int(begin.this)
    size = _exp.Anonymous(this="size", expressions=[values.copy()])
    bound = end.unnest()
    last: int | None = None
    if isinstance(bound, _exp.Literal) and not bound.is_string:
        last = int(bound.this)
    elif isinstance(bound, _exp.Neg) and isinstance(bound.this, _exp.Literal) and not bound.this.is_string:
        last = -int(bound.this.this)
    if last is not None:  # written out: slice(l, 2, 3) for [2:4], slice(l, 1, greatest(size(l) - 1, 0)) for [1:-2]
        if last >= 0:
            return _exp.func("slice", values, begin, _exp.Literal.number(max(last - first + 1, 0)))
        offset = last - first + 2
        counted: exp.Expr = size
        if offset:
            counted = (_exp.Add if offset > 0 else _exp.Sub)(this=size, expression=_exp.Literal.number(abs(offset)))
        return _exp.func("slice", values, begin, _exp.Greatest(this=counted, expressions=[_exp.Literal.number(0)]))
    computed_last = (
        _exp.Case()
        .when(_exp.LT(this=end.copy(), expression=_exp.Literal.number(0)), _exp.Add(this=size, expression=end.copy()))
        .else_(_exp.Sub(this=end.copy(), expression=_exp.Literal.number(1)))
    )
    length = _exp.Greatest(
        this=_exp.Sub(this=_exp.paren(computed_last), expression=_exp.Literal.number(first - 2)),
        expressions=[_exp.Literal.number(0)],
    )
    return _exp.func("slice", values, begin, length)


def _getvariable(name: exp.Expr, *rest: exp.Expr) -> exp.Expr | None:
    """getvariable('v'): Spark's session variable v (DECLARE VARIABLE), read by its qualified name."""
    from sqlglot import exp as _exp

    text = _literal_text(name)
    if rest or text is None:
        return None
    return _exp.column(text, table="session", db="system")


def _json_valid(text: exp.Expr, *rest: exp.Expr) -> exp.Expr | None:
    """json_valid(x): whether x reads as JSON; NULL for NULL."""
    from sqlglot import exp as _exp

    if rest:
        return None
    return _bound(
        text,
        lambda v: (
            _exp.Case()
            .when(_exp.Is(this=v, expression=_exp.Null()), _exp.Null())
            .else_(
                _exp.Not(
                    this=_exp.Is(
                        this=_exp.Anonymous(this="try_parse_json", expressions=[v.copy()]), expression=_exp.Null()
                    )
                )
            )
        ),
    )


def _json_type(text: exp.Expr, *rest: exp.Expr) -> exp.Expr | None:
    """json_type(x) of a JSON text: OBJECT, ARRAY, VARCHAR, BIGINT, DOUBLE, BOOLEAN or NULL, from the type
    Spark's VARIANT reads (DuckDB stops on text that is not JSON, which every caller checks or cannot have; NULL
    here)."""

    if rest:
        return None
    return _bound(text, _json_kind)


def _json_kind(text: exp.Expr) -> exp.Expr:
    from sqlglot import exp as _exp

    read = _exp.Anonymous(
        this="schema_of_variant", expressions=[_exp.Anonymous(this="try_parse_json", expressions=[text.copy()])]
    )
    # an integer is UBIGINT to DuckDB when it has no minus sign and fits 64 bits unsigned, BIGINT when negative
    # and fits 64 bits signed, else DOUBLE (Spark reads integers past BIGINT as DECIMAL(n, 0))
    whole = _exp.TryCast(this=_exp.Trim(this=text.copy()), to=_exp.DataType.build("DECIMAL(38, 0)"))
    negative = _exp.Like(this=_exp.Trim(this=text.copy()), expression=_exp.Literal.string("-%"))
    integer = (
        _exp.Case()
        .when(
            _exp.Not(
                this=_exp.RegexpLike(this=_exp.Trim(this=text.copy()), expression=_exp.Literal.string("^-?[0-9]+$"))
            ),
            _exp.Literal.string("DOUBLE"),
        )  # 1.0 is a DOUBLE to DuckDB, a whole DECIMAL to Spark
        .when(
            _exp.and_(
                _exp.Not(this=negative.copy()),
                _exp.LTE(this=whole.copy(), expression=_exp.Literal.number(18446744073709551615)),
            ),
            _exp.Literal.string("UBIGINT"),
        )
        .when(
            _exp.and_(negative, _exp.GTE(this=whole, expression=_exp.Literal.number(-9223372036854775808))),
            _exp.Literal.string("BIGINT"),
        )
        .else_(_exp.Literal.string("DOUBLE"))
    )
    kinds: tuple[tuple[str, exp.Expr], ...] = (
        ("OBJECT%", _exp.Literal.string("OBJECT")),
        ("ARRAY%", _exp.Literal.string("ARRAY")),
        ("STRING", _exp.Literal.string("VARCHAR")),
        ("VOID", _exp.Literal.string("NULL")),
        ("BOOLEAN", _exp.Literal.string("BOOLEAN")),
        ("%INT", integer),
        ("DECIMAL(%,0)", integer),
        ("DECIMAL%", _exp.Literal.string("DOUBLE")),
        ("DOUBLE", _exp.Literal.string("DOUBLE")),
        ("FLOAT", _exp.Literal.string("DOUBLE")),
    )
    case = _exp.Case()
    for pattern, kind in kinds:
        test = _exp.Like if "%" in pattern else _exp.EQ
        case = case.when(test(this=read.copy(), expression=_exp.Literal.string(pattern)), kind.copy())
    return case


def _spark_json_schema(structure: Any) -> str | None:
    """A json_transform structure (parsed JSON) as a Spark DDL type, when every leaf is VARCHAR; None else. A
    JSON leaf is not carried: Spark's VARIANT writes a number read as 2.0 back as 2, where DuckDB writes 2.0."""
    import json

    if structure == "VARCHAR":
        return "STRING"
    if structure == "MAP(VARCHAR, VARCHAR)":
        return "MAP<STRING, STRING>"
    if isinstance(structure, list) and len(structure) == 1:
        inner = _spark_json_schema(structure[0])
        return None if inner is None else f"ARRAY<{inner}>"
    if isinstance(structure, dict) and structure:
        fields = [(json.dumps(k), _spark_json_schema(v)) for k, v in structure.items()]
        if any(t is None or not k.isascii() or "`" in k for k, t in fields):
            return None
        return "STRUCT<" + ", ".join(f"`{k[1:-1]}`: {t}" for k, t in fields) + ">"
    return None


def _json_transform(text: exp.Expr, structure: exp.Expr, *rest: exp.Expr) -> exp.Expr | None:
    """json_transform(x, structure) whose leaves are all VARCHAR: from_json with that type — a member that is
    absent, null or of another shape is NULL, a number or an object its JSON text, as DuckDB gives."""
    import json

    from sqlglot import exp as _exp

    literal = _literal_text(structure)
    if rest or literal is None:
        return None
    try:
        ddl = _spark_json_schema(json.loads(literal))
    except ValueError:
        return None
    if ddl is None:
        return None
    return _exp.Anonymous(this="from_json", expressions=[text.copy(), _exp.Literal.string(ddl)])


def _json_exists(text: exp.Expr, path: exp.Expr, *rest: exp.Expr) -> exp.Expr | None:
    """json_exists(x, '$.key…'): whether the path names a member, a JSON null one too (try_variant_get gives
    SQL NULL only when the path is absent); NULL for NULL."""
    from sqlglot import exp as _exp

    literal = _literal_text(path)
    if rest or literal is None or not re.fullmatch(r"\$(\.[A-Za-z_][A-Za-z0-9_]*)+", literal):
        return None
    member = _exp.Anonymous(
        this="try_variant_get",
        expressions=[_exp.Anonymous(this="try_parse_json", expressions=[text.copy()]), _exp.Literal.string(literal)],
    )
    found = _exp.Not(this=_exp.Is(this=member, expression=_exp.Null()))
    return _exp.Case().when(_exp.Is(this=text.copy(), expression=_exp.Null()), _exp.Null()).else_(found)


_FUNCTIONS: dict[str, Any] = {
    "isfinite": _isfinite,
    "try_strptime": _try_strptime,
    "list_position": _list_position,
    "list_indexof": _list_position,
    "list_slice": _list_slice,
    "getvariable": _getvariable,
    "json_valid": _json_valid,
    "json_transform": _json_transform,
    "json_exists": _json_exists,
}


def _mean(average: exp.Expr, wrapper: exp.Expr | None) -> exp.Expr:
    """avg(x) as DuckDB computes it: the exact sum (of integers or DECIMALs) divided as a DOUBLE by the count —
    Spark's avg of a DECIMAL stays a DECIMAL of 4 more digits (0.38671875 would be 0.38672). `wrapper`: the
    FILTER or OVER the avg has, given to both the sum and the count."""
    from sqlglot import exp as _exp

    def wrapped(aggregate: exp.Expr) -> exp.Expr:
        if wrapper is None:
            return aggregate
        outer = wrapper.copy()
        outer.set("this", aggregate)
        return outer

    value = average.this
    if isinstance(value, _exp.Distinct):
        kept = average.copy()
        kept.meta["mean"] = True
        return wrapped(kept)
    total = wrapped(_exp.Sum(this=value.copy()))
    count = wrapped(_exp.Count(this=value.copy()))
    division = _exp.Div(this=_exp.Cast(this=total, to=_exp.DataType.build("DOUBLE")), expression=count)
    division.meta["double"] = True
    return _exp.paren(division)


def _literal_text(node: exp.Expr | None) -> str | None:
    """The text of a string literal, of literals joined (||, concat, adjacent) or of chr(n); None for anything
    else."""
    from sqlglot import exp as _exp

    if isinstance(node, _exp.Literal) and node.is_string:
        return str(node.this)
    if isinstance(node, _exp.DPipe):
        left, right = _literal_text(node.this), _literal_text(node.expression)
        return None if left is None or right is None else left + right
    if isinstance(node, _exp.Concat):  # 'a' 'b' (adjacent literals), concat('a', 'b')
        pieces = [_literal_text(piece) for piece in node.expressions]
        return None if any(piece is None for piece in pieces) else "".join(pieces)  # type: ignore[arg-type]
    if isinstance(node, _exp.Chr) and len(node.expressions) == 1 and isinstance(node.expressions[0], _exp.Literal):
        code = node.expressions[0]
        return chr(int(code.this)) if not code.is_string else None
    if isinstance(node, _exp.Paren):
        return _literal_text(node.this)
    return None


# letters of a strftime pattern that are not a %-field
_STRFTIME_LETTERS = re.compile(r"(?<!%)[A-Za-z]+")
_FMT_FIELD = re.compile(r"\{(:[^{}]*)?\}")
_FMT_AS_PRINTF = {None: "%s", ":,.2f": "%,.2f", ":.2f": "%.2f", ":.1f": "%.1f", ":,": "%,d"}


def _fmt_as_printf(pattern: str) -> str:
    """A DuckDB format() pattern (fmt: `{}`, `{:,.2f}`) as Java's printf pattern; a field this table does not
    know is refused rather than printed wrong."""
    parts: list[str] = []
    at = 0
    for field in _FMT_FIELD.finditer(pattern):
        parts.append(pattern[at : field.start()].replace("%", "%%"))
        spec = field.group(1)
        if spec not in _FMT_AS_PRINTF:
            raise DialectError(f"format() field {field.group(0)!r} has no printf counterpart here")
        parts.append(_FMT_AS_PRINTF[spec])
        at = field.end()
    parts.append(pattern[at:].replace("%", "%%"))
    return "".join(parts)


def _regexp_replace(node: exp.Expr) -> exp.Expr:
    """regexp_replace(x, pattern, replacement[, flags]) in Spark's terms: DuckDB (RE2) writes a group in the
    replacement as \\1, Java as $1; DuckDB replaces the first match unless flagged 'g', Spark every match (the
    same when the pattern is anchored; an unanchored one is anchored behind the shortest prefix before its first
    match); flag 'i' becomes (?i). SQLGlot would drop the flags without a word."""
    from sqlglot import exp as _exp

    pattern = _literal_text(node.expression)
    replacement = _literal_text(node.args.get("replacement"))
    flags = _literal_text(node.args.get("modifiers")) or ""
    if pattern is None or replacement is None:
        raise DialectError(f"regexp_replace with a computed pattern or replacement: {node.sql(dialect='duckdb')}")
    java = re.sub(r"\\(\d)", r"$\1", replacement.replace("$", "\\$"))
    if "g" not in flags and not (pattern.startswith(("^", "(?i)^")) or pattern.endswith("$")):
        # the first match only: anchored behind the shortest prefix before it, which the replacement keeps
        # ([\s\S] is any character, a newline too, whatever `.` means in the pattern); its groups shift by one
        pattern = f"^([\\s\\S]*?)(?:{pattern})"
        java = "$1" + re.sub(r"\$(\d)", lambda g: f"${int(g.group(1)) + 1}", java)
    if "i" in flags:
        pattern = "(?i)" + pattern
    return _exp.Anonymous(
        this="regexp_replace",
        expressions=[node.this.copy(), _exp.Literal.string(pattern), _exp.Literal.string(java)],
    )


def _source_aliases(node: exp.Expr) -> set[str]:
    """The names the tables and subqueries of the SELECT around `node` go by."""
    from sqlglot import exp as _exp

    select = node.find_ancestor(_exp.Select)
    if select is None:
        return set()
    sources = [select.args.get("from_"), *(select.args.get("joins") or [])]
    return {s.this.alias_or_name.lower() for s in sources if s is not None and s.this is not None}


def _list_sum(values: exp.Expr) -> exp.Expr:
    """list_sum(x): its non-NULL elements added in list order (NULL when there are none), as DuckDB adds them.
    The sum starts from the first element, so it keeps the elements' type: a DECIMAL list, whose sum would
    widen, is refused by Spark rather than summed in floating point."""
    import sqlglot

    present = sqlglot.parse_one("filter(x, v -> v IS NOT NULL)", read="spark")
    present = present.transform(lambda n: values.copy() if _is_column(n, "x") else n)
    template = sqlglot.parse_one(
        "aggregate(slice(f, 2, greatest(size(f) - 1, 0)), try_element_at(f, 1), (acc, v) -> acc + v)", read="spark"
    )
    return template.transform(lambda n: present.copy() if _is_column(n, "f") else n)


def _is_column(node: exp.Expr, name: str) -> bool:
    from sqlglot import exp as _exp

    return isinstance(node, _exp.Column) and not node.table and node.name == name


@cache
def _integer_types() -> frozenset[Any]:
    from sqlglot import exp as _exp

    kinds = _exp.DataType.Type
    return frozenset({kinds.TINYINT, kinds.SMALLINT, kinds.INT, kinds.BIGINT, kinds.INT128})


@cache
def _computed_numbers() -> tuple[type, ...]:
    """Expressions whose value may have a fraction: an aggregate, a percentile, arithmetic."""
    from sqlglot import exp as _exp

    return (
        _exp.Avg,
        _exp.Median,
        _exp.PercentileCont,
        _exp.ApproxQuantile,
        _exp.Quantile,
        _exp.Div,
        _exp.Mul,
        _exp.Add,
        _exp.Sub,
        _exp.Pow,
        _exp.Sqrt,
        _exp.Ln,
        _exp.Log,
        _exp.Exp,
        _exp.Stddev,
        _exp.Sum,
    )


def _empty_window(window: exp.Expr) -> bool:
    return not (window.args.get("partition_by") or window.args.get("order") or window.args.get("spec"))


def _ordered_aggregate(node: exp.Expr, where: exp.Expr | None = None) -> exp.Expr | None:
    """The Spark form of an aggregate whose result depends on an order — list(x ORDER BY k…) and
    arg_min / arg_max(x, k, n) — or None when `node` is not one."""
    from sqlglot import exp as _exp

    if isinstance(node, _exp.ArrayAgg) and isinstance(node.this, _exp.Order):
        # list(x ORDER BY k…): SQLGlot would write COLLECT_LIST(x) and drop the order without a word
        order = node.this
        value = order.this
        if isinstance(value, _exp.Distinct):
            # list(DISTINCT x ORDER BY …): the sorted values, each kept at its first place
            inner = value.expressions[0]
            return _exp.func("array_distinct", _sorted_values(inner, list(order.expressions), where))
        return _sorted_values(value, list(order.expressions), where)
    if isinstance(node, _exp.ArgMin | _exp.ArgMax) and node.args.get("count") is not None:
        # arg_min(x, k, n): the n values of x with the least k (rows whose k is NULL never count, as in DuckDB)
        key = node.expression
        ordered = _exp.Ordered(this=_as_struct(key), desc=isinstance(node, _exp.ArgMax), nulls_first=False)
        has_key = _exp.Not(this=_exp.Is(this=key.copy(), expression=_exp.Null()))
        values = _sorted_values(node.this, [ordered], has_key if where is None else _exp.and_(where.copy(), has_key))
        return _exp.func("slice", values, _exp.Literal.number(1), node.args["count"].copy())
    return None


def _named_struct(node: exp.Expr) -> exp.Expr:
    """A json_object as a Spark struct, its values as JSON values (see _json_value)."""
    from sqlglot import exp as _exp

    arguments: list[exp.Expr] = []
    for pair in node.expressions:
        arguments += [pair.this.copy(), _json_value(pair.expression)]
    return _exp.Anonymous(this="named_struct", expressions=arguments)


def _merged_objects(target: exp.Expr, patch: exp.Expr) -> exp.Expr | None:
    """json_merge_patch(json_object(…), patch) as one json_object, when the patch is a json_object or a CASE of
    them: the target's members the patch does not name, then the patch's. None for any other shape. (A patch
    member whose value is NULL is kept as null here; RFC 7396 would remove the member.)"""
    from sqlglot import exp as _exp

    while isinstance(target, _exp.Paren):
        target = target.this
    while isinstance(patch, _exp.Paren):
        patch = patch.this
    if not isinstance(target, _exp.JSONObject):
        return None
    if isinstance(patch, _exp.JSONObject):
        patched = {_literal_text(pair.this) for pair in patch.expressions}
        if None in patched:
            return None
        kept = [pair.copy() for pair in target.expressions if _literal_text(pair.this) not in patched]
        return _exp.JSONObject(expressions=kept + [pair.copy() for pair in patch.expressions])
    if isinstance(patch, _exp.Case):
        case = patch.copy()
        for branch in case.args.get("ifs") or []:
            merged = _merged_objects(target, branch.args["true"])
            if merged is None:
                return None
            branch.set("true", merged)
        default = case.args.get("default")
        merged_default = _merged_objects(target, default) if default is not None else None
        if merged_default is None:
            return None
        case.set("default", merged_default)
        return case
    return None


def _json_value(value: exp.Expr) -> exp.Expr:
    """A value placed in a json_object. What DuckDB types JSON (a json_object, to_json(x), CAST(x AS JSON), a
    subquery of one of those) nests as an object there; Spark nests the value itself, which its to_json then
    writes as an object — passed as JSON text it would be written as a string."""
    from sqlglot import exp as _exp

    inner = value
    # parentheses, and a subquery in a subquery (a macro whose body is one, called in parentheses); unnest()
    # would also open the innermost subquery
    while isinstance(inner, _exp.Paren) or (isinstance(inner, _exp.Subquery) and isinstance(inner.this, _exp.Subquery)):
        inner = inner.this
    if isinstance(inner, _exp.JSONObject) and not inner.expressions:
        return _exp.Anonymous(this="map", expressions=[])  # nests as {} (an empty struct is not a Spark type)
    if isinstance(inner, _exp.JSONObject):
        return _named_struct(inner)
    if isinstance(inner, _exp.Anonymous) and str(inner.this).lower() == "to_json" and len(inner.expressions) == 1:
        return _json_value(inner.expressions[0])
    if isinstance(inner, _exp.Cast) and inner.to.is_type(_exp.DataType.Type.JSON):
        return _json_value(inner.this)
    if isinstance(inner, _exp.Case):  # CASE WHEN … THEN json_object(…) [ELSE …] END: each branch alike
        case = inner.copy()
        for branch in case.args.get("ifs") or []:
            branch.set("true", _json_value(branch.args["true"]))
        if case.args.get("default") is not None:
            case.set("default", _json_value(case.args["default"]))
        return case
    if isinstance(inner, _exp.Subquery) and isinstance(inner.this, _exp.Select) and len(inner.this.expressions) == 1:
        subquery = inner.copy()
        projection = subquery.this.expressions[0]
        subquery.this.set("expressions", [_json_value(projection.unalias())])
        return subquery
    return value.copy()


def _glob_as_regex(pattern: exp.Expr) -> exp.Expr:
    """A GLOB pattern (`*`, `?`) as the anchored Java regular expression Spark's RLIKE reads: the characters a
    regular expression gives a meaning to are put in a class first ('4.1' must match only '4.1')."""
    from sqlglot import exp as _exp

    if isinstance(pattern, _exp.Literal) and pattern.is_string:
        text = re.sub(r"[.+()|{}$]", lambda special: f"[{special.group(0)}]", pattern.this)
        text = text.replace("*", ".*").replace("?", ".")
        return _exp.Literal.string(f"^{text}$")
    literal = _exp.Literal.string
    # already in Spark's terms (every match, Java's $0): an Anonymous call, which the RegexpReplace rewrite skips
    escaped = _exp.Anonymous(
        this="regexp_replace", expressions=[pattern.copy(), literal("[.+()|{}$]"), literal("[$0]")]
    )
    wildcards = _exp.func(
        "replace", _exp.func("replace", escaped, literal("*"), literal(".*")), literal("?"), literal(".")
    )
    return _exp.func("concat", literal("^"), wildcards, literal("$"))


def _base64_or_null(text: exp.Expr) -> exp.Expr:
    from sqlglot import exp as _exp

    strict = _exp.and_(
        _exp.RegexpLike(this=text.copy(), expression=_exp.Literal.string("^[A-Za-z0-9+/]*={0,2}$")),
        _exp.EQ(
            this=_exp.Mod(this=_exp.Length(this=text.copy()), expression=_exp.Literal.number(4)),
            expression=_exp.Literal.number(0),
        ),
    )
    decoded = _exp.Anonymous(this="try_to_binary", expressions=[text.copy(), _exp.Literal.string("base64")])
    return _exp.Case().when(strict, decoded)


def _is_json_read(node: exp.Expr) -> bool:
    from sqlglot import exp as _exp

    if isinstance(node, _exp.JSONExtract | _exp.JSONExtractScalar | _exp.JSONType):
        return True
    return isinstance(node, _exp.Anonymous) and str(node.this).lower() in {"json_transform", "from_json"}


def _as_struct(key: exp.Expr) -> exp.Expr:
    """A DuckDB row or struct key ((a, b), {'x': a, 'y': b}) as a Spark struct that orders the same way. Both
    compare field by field, but a NULL field sorts last in DuckDB and first in Spark: each field is preceded
    by whether it is NULL."""
    from sqlglot import exp as _exp

    if isinstance(key, _exp.Tuple | _exp.Struct):
        fields: list[exp.Expr] = []
        for field in key.expressions:
            value = field.expression if isinstance(field, _exp.PropertyEQ) else field
            fields += [_exp.Is(this=_exp.paren(value.copy()), expression=_exp.Null()), value.copy()]
        return _exp.Struct(expressions=fields)
    return key.copy()


def _sorted_values(value: exp.Expr, keys: list[exp.Expr], where: exp.Expr | None) -> exp.Expr:
    """The values of an ordered aggregate, in Spark: collect (key…, value) structs, sort them with a comparator
    that honours each key's direction and NULL placement, keep the values. NULL values are kept (collect_list
    drops NULLs, never a struct), as DuckDB's list() keeps them."""
    from sqlglot import exp as _exp

    fields = [
        _exp.alias_(key.this.copy() if isinstance(key, _exp.Ordered) else key.copy(), f"k{i}")
        for i, key in enumerate(keys)
    ]
    fields.append(_exp.alias_(value.copy(), "v"))
    collected: exp.Expr = _exp.func("collect_list", _exp.Struct(expressions=fields))
    if where is not None:
        collected = _exp.Filter(this=collected, expression=_exp.Where(this=where))
    comparison: exp.Expr = _exp.Literal.number(0)
    for i in reversed(range(len(keys))):
        ordered = keys[i]
        descending = bool(ordered.args.get("desc")) if isinstance(ordered, _exp.Ordered) else False
        nulls_first = bool(ordered.args.get("nulls_first")) if isinstance(ordered, _exp.Ordered) else False
        left, right = _exp.column(f"k{i}", table="l"), _exp.column(f"k{i}", table="r")
        before, after = (_exp.Literal.number(-1), _exp.Literal.number(1))
        comparison = (
            _exp.Case()
            .when(_exp.NullSafeEQ(this=left.copy(), expression=right.copy()), comparison)
            .when(left.is_(_exp.Null()), before if nulls_first else after)
            .when(right.is_(_exp.Null()), after if nulls_first else before)
            .when(_exp.LT(this=left.copy(), expression=right.copy()), after if descending else before)
            .else_(before if descending else after)
        )
    comparator = _exp.Lambda(this=comparison, expressions=[_exp.to_identifier("l"), _exp.to_identifier("r")])
    ordered_structs = _exp.func("array_sort", collected, comparator)
    keep_value = _exp.Lambda(this=_exp.column("v", table="s"), expressions=[_exp.to_identifier("s")])
    return _exp.func("transform", ordered_structs, keep_value)


@cache
def shipped_macros() -> Mapping[str, Macro]:
    """Every macro sql/ defines (the shared ones and each grain's own), by name: a file may call a macro another
    file creates, as it may read a table another file creates."""
    from costlens.sqlfiles import load_sql, sql_root

    macros: dict[str, Macro] = {}
    for path in sorted(sql_root().glob("*/*.sql")):
        relative = f"{path.parent.name}/{path.name}"
        text = _PLACEHOLDER_FOR_PARSING.sub("placeholder", load_sql(relative))
        if "MACRO" in text.upper():
            macros.update(macros_in(parse_duckdb(text, f"sql/{relative}")))
    return macros


def spark_statements(sql: str, origin: str, schema: Schema | None = None) -> list[str]:
    """Spark SQL for DuckDB SQL text that may call any macro sql/ defines (with `schema`, its `*` written out)."""
    return to_spark(sql, origin, shipped_macros(), schema)
