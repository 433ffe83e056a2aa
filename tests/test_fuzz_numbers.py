"""Non-finite and overflowing numbers planted in every adapter's fixtures (issue 14): a token count or a
quantity of NaN, ±Infinity, 1e19 (beyond BIGINT), 1e300 or -5, and an amount of money of NaN, ±Infinity or
1e300, must never load as 0 (or as anything): the record is rejected with a reason that names the field, and
every other record loads exactly as from the untouched file.

Each planted value goes into its own record, so one ingest checks several values of one field. A field an
adapter does not read may stay in a loaded record (its rows are then unchanged); nothing may load changed.
"""

from __future__ import annotations

import copy
import csv
import io
import json
import re
from collections import Counter
from pathlib import Path

import pytest
from test_fuzz_adapters import BLOCK_MAP, CLAUDE, GENERIC_CSV_MAP, Loaded, check_invariants, fixture_bytes, write_file

from costlens.config import ColumnMapping

BAD_COUNTS = ["NaN", "Infinity", "-Infinity", "1e19", "1e300", "-5"]
BAD_MONEY = ["NaN", "Infinity", "-Infinity", "1e300"]
# A bill's quantities may be negative (refunds, corrections) and large (storage in byte-seconds): NaN, Infinity and
# values no column can hold are rejected; tokens beyond BIGINT on an AI line are tested on their own below.
BAD_BILL = BAD_MONEY
BILLING = {"focus", "openai_billing", "anthropic_billing", "aws_cur", "azure_cost", "gcp_billing"}

# Fields that carry a token count / quantity, or money, by their (leaf) name.
COUNT_KEY = re.compile(
    r"(?i)(tokens?$|tokens?_|tokencount|_length$|requests$|^(input|output|total)$|quantity|"
    r"^usage[._]amount|amount_in_pricing_units|^input_cache_creation|_count$|^images$)"
)
MONEY_KEY = re.compile(r"(?i)(cost|spend|price|^amount$|amount_value|rate$)")
NOT_A_COUNT = re.compile(r"(?i)^max_|max_tokens|time_to_first_token|^total_?(items|pages)$|tier_start")

# (fixture, adapter, mapping): every fixture of every adapter that reads numbers.
TARGETS = [
    ("otel/otlp_small.jsonl", "otel", None),
    ("economics/spans.jsonl", "otel", None),
    ("openai/app_log.jsonl", "openai", None),
    ("openai/mixed_providers.jsonl", "openai", None),
    ("openai/responses.json", "openai", None),
    ("anthropic/app_log.jsonl", "anthropic", None),
    ("anthropic/batch_results.jsonl", "anthropic", None),
    ("generic/tokens_by_row.csv", "generic", GENERIC_CSV_MAP),
    ("focus/focus_1_2_azure_openai.csv", "focus", None),
    ("focus/focus_1_3_bedrock.csv", "focus", None),
    ("litellm/spend_logs.csv", "litellm", None),
    ("litellm/spend_logs.json", "litellm", None),
    ("litellm/spend_logs_page.json", "litellm", None),
    ("helicone/requests.jsonl", "helicone", None),
    ("helicone/requests.csv", "helicone", None),
    ("helicone/export_cli_old.csv", "helicone", None),
    ("langfuse/observations.jsonl", "langfuse", None),
    ("langfuse/observations_page.json", "langfuse", None),
    ("langfuse/traces.jsonl", "langfuse", None),
    ("langfuse/traces_page.json", "langfuse", None),
    (CLAUDE, "claude_code", None),
    ("openai_billing/costs_page.json", "openai_billing", None),
    ("openai_billing/usage_completions_page.json", "openai_billing", None),
    ("openai_billing/usage_pages.jsonl", "openai_billing", None),
    ("openai_billing/usage_export.csv", "openai_billing", None),
    ("openai_billing/cost_export.csv", "openai_billing", None),
    ("openai_billing/cost_export_v2.csv", "openai_billing", None),
    ("anthropic_billing/cost_report_pages.jsonl", "anthropic_billing", None),
    ("anthropic_billing/cost_report_page.json", "anthropic_billing", None),
    ("anthropic_billing/usage_report_page.json", "anthropic_billing", None),
    ("anthropic_billing/console_usage.csv", "anthropic_billing", None),
    ("anthropic_billing/console_cost.csv", "anthropic_billing", None),
    ("anthropic_billing/console_cost_v2.csv", "anthropic_billing", None),
    ("aws_cur/cur2_bedrock.csv", "aws_cur", None),
    ("azure_cost/ea_actual_cost.csv", "azure_cost", None),
    ("azure_cost/mca_amortized_cost.csv", "azure_cost", None),
    ("gcp_billing/detailed_export.jsonl", "gcp_billing", None),
    ("gcp_billing/standard_export.csv", "gcp_billing", None),
    ("block_trace", "block_trace", BLOCK_MAP),
]


def _is_number_text(value) -> bool:
    return isinstance(value, str) and re.fullmatch(r"\s*-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?\s*", value) is not None


def _kind(name: str) -> str | None:
    leaf = name.rsplit(".", 1)[-1] if not name.startswith(("gen_ai.", "costlens.", "llm.")) else name
    if NOT_A_COUNT.search(leaf):
        return None
    if COUNT_KEY.search(leaf):
        return "count"
    if MONEY_KEY.search(leaf):
        return "money"
    return None


def _json_leaves(value, path=()):
    """(path, field name, is_string) of every number (or numeric text) a record holds."""
    if isinstance(value, dict):
        # an OTLP attribute {"key": k, "value": {"intValue": "10"}}: the field is k
        if isinstance(value.get("key"), str) and isinstance(value.get("value"), dict):
            for kind, inner in value["value"].items():
                if (isinstance(inner, (int, float)) and not isinstance(inner, bool)) or _is_number_text(inner):
                    yield path + ("value", kind), value["key"], isinstance(inner, str)
            return
        for key, child in value.items():
            if isinstance(child, (int, float)) and not isinstance(child, bool):
                yield path + (key,), str(key), False
            elif _is_number_text(child) and (path and path[-1] == "amount" or _kind(str(key)) == "money"):
                yield path + (key,), str(key) if key != "value" else "amount", True
            else:
                yield from _json_leaves(child, path + (key,))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _json_leaves(child, path + (index,))


def _field_name(path: tuple, name: str) -> str:
    if name == "value" and len(path) >= 2 and path[-2] == "amount":
        return "amount"
    return name


def _set(doc, path, new):
    target = doc
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = new


RECORD_LISTS = ("data", "results", "spans", "observations")


def _records(doc, path=()):
    """The records of a single JSON document: the innermost elements of its record lists (page `data`, bucket
    `results`, …), the elements of a top-level array, else the document itself."""
    if isinstance(doc, list) and path == ():
        return [((i,), r) for i, r in enumerate(doc)]
    found = []
    if isinstance(doc, dict):
        for key, child in doc.items():
            if key in RECORD_LISTS and isinstance(child, list):
                for index, element in enumerate(child):
                    if isinstance(element, dict):
                        found.extend(_records(element, path + (key, index)) or [(path + (key, index), element)])
            elif isinstance(child, dict):
                found.extend(_records(child, path + (key,)))
    return found if found or path != () else [((), doc)]


def _token(value: str, as_string: bool) -> str:
    return json.dumps(value) if as_string else value


def _plan_rounds(places: dict, billing: bool = False) -> list[dict]:
    """Spread every (field, value) to plant over as few files as possible: each file plants at most one value in
    each record. `places`: record → {field: kind}. Returns one {record: (field, value)} per file."""
    pending = []
    kinds: dict[str, str] = {}
    for fields in places.values():
        kinds.update(fields)
    for field, kind in sorted(kinds.items()):
        values = BAD_BILL if billing else BAD_COUNTS if kind == "count" else BAD_MONEY
        pending += [(field, value) for value in values]
    rounds = []
    while pending:
        chosen: dict = {}
        for record, fields in places.items():
            pick = next((pair for pair in pending if pair[0] in fields), None)
            if pick is not None:
                chosen[record] = pick
                pending.remove(pick)
        assert chosen, pending
        rounds.append(chosen)
    return rounds


def json_cases(relative: str, raw: bytes, billing: bool):
    """(planted {row or None: (field, value)}, mutated bytes) for the number fields of a JSON fixture. Rows are
    known for JSON lines (their non-blank line number); a single document's records are not numbered here."""
    text = raw.decode()
    single = relative.endswith(".json")
    if single:
        document = json.loads(text)
        units = list(_records(document))
    else:
        lines = text.splitlines()
        units = []
        for i, line in enumerate(lines):
            try:  # fixtures hold damaged lines on purpose: only whole records are planted in
                units.append((i, json.loads(line)))
            except ValueError:
                pass
    leaves: dict = {}  # record → field → [(path, as_string)]
    places: dict = {}
    for unit, record in units:
        for path, name, as_string in _json_leaves(record):
            field = _field_name(path, name)
            kind = _kind(field)
            if kind:
                leaves.setdefault(unit, {}).setdefault(field, []).append((path, as_string))
                places.setdefault(unit, {})[field] = kind
    for chosen in _plan_rounds(places, billing):
        marks = {}
        if single:
            doc = copy.deepcopy(document)
            for n, (unit, (field, value)) in enumerate(chosen.items()):
                record = doc
                for part in unit:
                    record = record[part]
                for path, as_string in leaves[unit][field]:
                    _set(record, path, f"__planted_{n}__")
                    marks[f"__planted_{n}__"] = _token(value, as_string)
            data = json.dumps(doc)
            planted = {None: list(chosen.values())}
        else:
            out = list(lines)
            planted = {}
            for n, (unit, (field, value)) in enumerate(chosen.items()):
                record = json.loads(lines[unit])
                for path, as_string in leaves[unit][field]:
                    _set(record, path, f"__planted_{n}__")
                    marks[f"__planted_{n}__"] = _token(value, as_string)
                out[unit] = json.dumps(record)
                planted[sum(1 for line in lines[: unit + 1] if line.strip())] = [(field, value)]
            data = "\n".join(out) + "\n"
        for mark, token in marks.items():
            data = data.replace(json.dumps(mark), token)
        yield planted, data.encode()


def csv_cases(raw: bytes, mapping, billing: bool):
    text = raw.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    header, body = rows[0], rows[1:]
    # a generic file's token columns are whatever the mapping names them
    mapped = {source.lower(): canonical for canonical, source in (mapping.columns.items() if mapping else [])}
    kinds = {column: _kind(mapped.get(name.lower(), name)) for column, name in enumerate(header)}
    places = {
        index: {
            header[column]: kinds[column]
            for column in kinds
            if kinds[column] and len(row) > column and _is_number_text(row[column])
        }
        for index, row in enumerate(body)
    }
    places = {index: fields for index, fields in places.items() if fields}
    for chosen in _plan_rounds(places, billing):
        mutated = [list(row) for row in body]
        for index, (field, value) in chosen.items():
            mutated[index][header.index(field)] = value
        out = io.StringIO(newline="")
        csv.writer(out, lineterminator="\n").writerows([header] + mutated)
        yield {index + 2: [pair] for index, pair in chosen.items()}, out.getvalue().encode()


def block_trace_cases(raw: bytes):
    lines = raw.decode().splitlines()
    places = {index: {"input_length": "count", "output_length": "count"} for index in range(len(lines))}
    for chosen in _plan_rounds(places):
        out = list(lines)
        for index, (field, value) in chosen.items():
            record = json.loads(lines[index])
            record[field] = "__planted__"
            out[index] = json.dumps(record).replace('"__planted__"', value)
        yield {index + 1: [pair] for index, pair in chosen.items()}, ("\n".join(out) + "\n").encode()


def cases(relative: str, adapter: str, mapping=None):
    raw = fixture_bytes(relative)
    if relative == "block_trace":
        return list(block_trace_cases(raw))
    if relative.endswith(".csv"):
        return list(csv_cases(raw, mapping, adapter in BILLING))
    return list(json_cases(relative, raw, adapter in BILLING))


@pytest.fixture(scope="module")
def num_con():
    from costlens import db

    connection = db.connect(":memory:")
    yield connection
    connection.close()


def _squash(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _names_field(reason: str, field: str) -> bool:
    """The reason names the field: the key itself or its last dotted part, compared without case and
    punctuation (an old Helicone export's cost_usd is the costUSD field)."""
    said = _squash(reason)
    # amount.value / amount_value (OpenAI's Costs API and its CSV) is the amount
    names = {field, field.rsplit(".", 1)[-1], re.sub(r"[._]value$", "", field)}
    return any(_squash(name) in said for name in names)


@pytest.mark.slow
@pytest.mark.parametrize(("relative", "adapter", "mapping"), TARGETS, ids=[t[0] for t in TARGETS])
def test_planted_bad_numbers_are_rejected_by_name(relative, adapter, mapping, num_con, tmp_path):
    suffix = ".jsonl" if relative == "block_trace" else Path(relative).suffix
    original_path = tmp_path / f"original{suffix}"
    write_file(original_path, fixture_bytes(relative))
    original = Loaded(num_con, original_path, adapter, mapping)
    assert original.file.status == "ingested" and original.file.rows_read > 0, original.file
    planted_cases = cases(relative, adapter, mapping)
    assert planted_cases, f"no number field found in {relative}"
    original_quarantine = Counter(original.quarantine)
    failures = []
    for n, (planted, data) in enumerate(planted_cases):
        path = tmp_path / f"planted_{n}{suffix}"
        write_file(path, data)
        got = Loaded(num_con, path, adapter, mapping)
        label = f"file {n}: " + ", ".join(
            f"row {row}: {field} := {value}" for row, pairs in planted.items() for field, value in pairs
        )
        if got.file.status != "ingested":
            failures.append(f"{label}: file failed: {got.file.message}")
            continue
        check_invariants(got, path, label)
        new = Counter(got.quarantine) - original_quarantine
        new_rejects = [(row, reason) for (row, disposition, reason) in new if disposition == "rejected"]
        new_skips = [(row, reason) for (row, disposition, reason) in new if disposition == "skipped"]
        changed = got.rows - original.rows  # rows that load differently from the untouched file
        lost = original.rows - got.rows
        for row, reason in new_rejects:
            fields = planted.get(row, planted.get(None, []))
            if not any(_names_field(reason, field) for field, _ in fields):
                failures.append(f"{label}: row {row} rejected without naming its field: {reason}")
        # a rejected record may hand its place to a twin it used to win a de-duplication against
        if changed and not (
            len(changed) <= len(new_rejects) and got.file.rows_duplicate < original.file.rows_duplicate
        ):
            failures.append(f"{label}: loaded changed: {sorted(changed)[:2]}")
        if lost and not new_rejects:
            failures.append(f"{label}: {sum(lost.values())} row(s) lost without a rejection")
        if new_skips:
            failures.append(f"{label}: skipped instead of rejected: {new_skips[:3]}")
    assert not failures, "\n".join(failures)


# (fixture, adapter, quantity column): a bill's token quantity times its block size beyond BIGINT overflowed the
# DECIMAL arithmetic and failed the whole file; now only those lines are rejected, by name.
BIG_QUANTITIES = [
    ("focus/focus_1_2_azure_openai.csv", "focus", "PricingQuantity"),
    ("focus/focus_1_2_azure_openai.csv", "focus", "ConsumedQuantity"),
    ("focus/focus_1_3_bedrock.csv", "focus", "PricingQuantity"),
    ("azure_cost/ea_actual_cost.csv", "azure_cost", "Quantity"),
    ("azure_cost/mca_amortized_cost.csv", "azure_cost", "quantity"),
    ("aws_cur/cur2_bedrock.csv", "aws_cur", "line_item_usage_amount"),
    ("gcp_billing/standard_export.csv", "gcp_billing", "usage.amount_in_pricing_units"),
    ("openai_billing/cost_export_v2.csv", "openai_billing", "quantity"),
]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("relative", "adapter", "column"), BIG_QUANTITIES, ids=[f"{r}:{c}" for r, _, c in BIG_QUANTITIES]
)
@pytest.mark.parametrize("value", ["1e19", "1e25"])
def test_token_quantity_beyond_bigint_rejects_the_line_not_the_file(
    relative, adapter, column, value, num_con, tmp_path
):
    rows = list(csv.reader(io.StringIO(fixture_bytes(relative).decode("utf-8-sig"), newline="")))
    index = rows[0].index(column)
    for row in rows[1:]:
        if len(row) > index and row[index].strip():
            row[index] = value
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator="\n").writerows(rows)
    path = tmp_path / f"big{Path(relative).suffix}"
    write_file(path, out.getvalue().encode())
    got = Loaded(num_con, path, adapter, None)
    assert got.file.status == "ingested", got.file.message
    check_invariants(got, path, value)
    out_of_range = [reason for _, disposition, reason in got.quarantine if "out of range" in reason]
    assert out_of_range and all(_names_field(reason, column) for reason in out_of_range), got.quarantine
    biggest = num_con.execute("SELECT max(abs(quantity_tokens)) FROM billing_lines").fetchone()[0]
    assert biggest is None or biggest < 9.2e18


GENERIC_MAP = ColumnMapping(
    columns={"ts": "when", "model": "model", "input_tokens": "tokens_in", "output_tokens": "tokens_out"},
    constants={"provider": "openai"},
)


@pytest.mark.parametrize("container", ["parquet", "jsonl"])
def test_generic_parquet_and_jsonl_reject_non_finite_counts_by_column(container, num_con, tmp_path):
    """Float columns (Parquet DOUBLE, JSON numbers) carry NaN, ±Infinity and values beyond BIGINT as numbers."""
    values = [10.0, float("nan"), float("inf"), float("-inf"), 1e19, 1e300, -5.0, 12.0]
    path = tmp_path / f"calls.{container}"
    if container == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(
            pa.table(
                {
                    "when": ["2026-10-01T00:00:00Z"] * len(values),
                    "model": ["gpt-4o"] * len(values),
                    "tokens_in": values,
                    "tokens_out": [1.0] * len(values),
                }
            ),
            path,
        )
    else:
        path.write_text(
            "".join(
                json.dumps({"when": "2026-10-01T00:00:00Z", "model": "gpt-4o", "tokens_in": v, "tokens_out": 1}) + "\n"
                for v in values
            )
        )
    got = Loaded(num_con, path, "generic", GENERIC_MAP)
    assert got.file.status == "ingested", got.file.message
    check_invariants(got, path, container)
    assert (got.file.rows_loaded, got.file.rows_quarantined) == (2, 6), got.quarantine
    assert all("tokens_in" in reason for _, _, reason in got.quarantine), got.quarantine
