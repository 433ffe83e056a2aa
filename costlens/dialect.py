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
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

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


def to_spark(text: str, origin: str, shared: Mapping[str, Macro] | None = None) -> list[str]:
    """Spark SQL statements for DuckDB SQL text: its macro definitions dropped, every macro call (the file's own
    and `shared`) inlined, the rest transpiled by SQLGlot. Raises DialectError for what Spark cannot express."""
    return transpile(text, origin, shared, "spark")


def transpile(text: str, origin: str, shared: Mapping[str, Macro] | None, target: str) -> list[str]:
    """DuckDB SQL text as statements of `target` ("spark", or "duckdb": the same SQL with its macros inlined,
    which is how the inlining itself is tested), macro definitions dropped."""
    from sqlglot.errors import ErrorLevel, UnsupportedError

    trees = parse_duckdb(text, origin)
    macros = {**(shared or {}), **macros_in(trees)}
    statements: list[str] = []
    for tree in trees:
        if _as_macro(tree) is not None:
            continue
        expanded = expand_macros(tree, macros, origin)
        if target == "spark":
            expanded = _rewrite_for_spark(expanded)
        try:
            statements.append(expanded.sql(dialect=target, unsupported_level=ErrorLevel.RAISE))
        except UnsupportedError as error:
            raise DialectError(f"{origin}: {str(error).splitlines()[0]}") from None
    return statements


# --- DuckDB constructs Spark has no word for, each rewritten to one with the same result -----------------------


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
    if isinstance(node, _exp.CTE) and node.args.get("materialized") is not None:
        # AS [NOT] MATERIALIZED is a hint to DuckDB's planner; Spark decides for itself
        node.set("materialized", None)
        return node
    if isinstance(node, _exp.IgnoreNulls) and isinstance(node.this, _exp.AnyValue | _exp.First | _exp.Last):
        # any_value(x) skips NULLs in DuckDB; Spark says so with its second argument, which a FILTER may follow
        aggregate = node.this
        return _exp.Anonymous(this=aggregate.sql_name(), expressions=[aggregate.this.copy(), _exp.true()])
    if isinstance(node, _exp.JSONObject):
        # json_object(k, v, …) → a JSON text of a struct; a json_object inside one nests as an object, not a string
        return _exp.func("to_json", _named_struct(node))
    if isinstance(node, _exp.Bracket) and len(node.expressions) == 1 and isinstance(node.expressions[0], _exp.Slice):
        # list[a:b]: DuckDB's slice is 1-based and includes b; Spark's slice(list, start, length)
        bounds = node.expressions[0]
        start, end = bounds.this, bounds.expression
        if isinstance(start, _exp.Literal) and isinstance(end, _exp.Literal):
            length = _exp.Literal.number(max(int(end.this) - int(start.this) + 1, 0))
            return _exp.func("slice", node.this.copy(), start.copy(), length)
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
        if isinstance(inner, _exp.Add):
            # try(a + b): NULL on overflow, which Spark's try_add gives for numbers and for time + interval
            return _exp.func("try_add", inner.this.copy(), inner.expression.copy())
    return node


def _ordered_aggregate(node: exp.Expr, where: exp.Expr | None = None) -> exp.Expr | None:
    """The Spark form of an aggregate whose result depends on an order — list(x ORDER BY k…) and
    arg_min / arg_max(x, k, n) — or None when `node` is not one."""
    from sqlglot import exp as _exp

    if isinstance(node, _exp.ArrayAgg) and isinstance(node.this, _exp.Order):
        # list(x ORDER BY k…): SQLGlot would write COLLECT_LIST(x) and drop the order without a word
        order = node.this
        return _sorted_values(order.this, list(order.expressions), where)
    if isinstance(node, _exp.ArgMin | _exp.ArgMax) and node.args.get("count") is not None:
        # arg_min(x, k, n): the n values of x with the least k (rows whose k is NULL never count, as in DuckDB)
        key = node.expression
        ordered = _exp.Ordered(this=_as_struct(key), desc=isinstance(node, _exp.ArgMax), nulls_first=False)
        has_key = _exp.Not(this=_exp.Is(this=key.copy(), expression=_exp.Null()))
        values = _sorted_values(node.this, [ordered], has_key if where is None else _exp.and_(where.copy(), has_key))
        return _exp.func("slice", values, _exp.Literal.number(1), node.args["count"].copy())
    return None


def _named_struct(node: exp.Expr) -> exp.Expr:
    from sqlglot import exp as _exp

    if not isinstance(node, _exp.JSONObject):
        return node.copy()
    arguments: list[exp.Expr] = []
    for pair in node.expressions:
        arguments += [pair.this.copy(), _named_struct(pair.expression)]
    return _exp.Anonymous(this="named_struct", expressions=arguments)


def _glob_as_regex(pattern: exp.Expr) -> exp.Expr:
    """A GLOB pattern (`*`, `?`) as the anchored Java regular expression Spark's RLIKE reads: the characters a
    regular expression gives a meaning to are put in a class first ('4.1' must match only '4.1')."""
    from sqlglot import exp as _exp

    if isinstance(pattern, _exp.Literal) and pattern.is_string:
        text = re.sub(r"[.+()|{}$]", lambda special: f"[{special.group(0)}]", pattern.this)
        text = text.replace("*", ".*").replace("?", ".")
        return _exp.Literal.string(f"^{text}$")
    literal = _exp.Literal.string
    escaped = _exp.func("regexp_replace", pattern.copy(), literal("[.+()|{}$]"), literal("[$0]"))
    wildcards = _exp.func(
        "replace", _exp.func("replace", escaped, literal("*"), literal(".*")), literal("?"), literal(".")
    )
    return _exp.func("concat", literal("^"), wildcards, literal("$"))


def _is_json_read(node: exp.Expr) -> bool:
    from sqlglot import exp as _exp

    if isinstance(node, _exp.JSONExtract | _exp.JSONExtractScalar):
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


def spark_statements(sql: str, origin: str) -> list[str]:
    """Spark SQL for DuckDB SQL text that may call any macro sql/ defines."""
    return to_spark(sql, origin, shipped_macros())
