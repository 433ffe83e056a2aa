"""OpenAI usage and cost exports → billing_lines: Usage API / Costs API pages (JSON) and the dashboard CSVs.

Four shapes, told apart by content (never by file name):

* Usage API `/v1/organization/usage/completions` pages `{object: "page", data: [{start_time, end_time,
  results: [...]}], has_more, next_page}` (also JSON lines of pages, a JSON array of pages, or bare buckets);
* Costs API `/v1/organization/costs` pages, same envelope, results `{amount: {value, currency}, line_item,
  project_id, ...}`;
* the dashboard usage CSV (`start_time, end_time, start_time_iso, end_time_iso, project_id,
  num_model_requests, ..., input_tokens, output_tokens, input_cached_tokens, ...`);
* the dashboard cost CSV (`start_time, ..., amount_value, amount_currency, line_item, project_id,
  organization_id, organization_name` [+ quantity, quantity_unit, user_id, api_key_id, project_name]).
  An export of a range with no activity at all carries only the four time columns: it is recognised too,
  and each of its rows is skipped as "no activity".

Both JSON and CSV are first projected onto one intermediate view `openai_billing_src` (text columns named
after the API fields); `sql/staging/openai_billing.sql` turns that into billing lines:

* usage results → token lines (one per bucket × result × token type with a non-zero count: input = uncached
  input, cache_read, cache_write_5m, output). OpenAI's `input_tokens` INCLUDES cached tokens. These lines
  carry no money (billed_cost / effective_cost NULL) and are flagged `charge_class = 'usage-only'`;
* cost results → one line each, model and token type parsed from `line_item` ("gpt-4o-2024-08-06, cached
  input", "priority | gpt-5, output, long context", "gpt-4o-mini, batch input", "web search tool calls").

All these lines are AI spend (is_ai true, provider openai).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from costlens.ingest.base import Adapter, IngestContext, vote_of_records
from costlens.ingest.readers import column_ref, load_json_records, load_tabular
from costlens.ingest.sources import Source

if TYPE_CHECKING:
    import duckdb

TIME_COLUMNS = ("start_time", "end_time", "start_time_iso", "end_time_iso")

# Name in openai_billing_src → dashboard CSV header names that may carry it (first present wins).
CSV_COLUMNS: dict[str, tuple[str, ...]] = {
    "start_raw": ("start_time",),
    "end_raw": ("end_time",),
    "start_iso_raw": ("start_time_iso",),
    "end_iso_raw": ("end_time_iso",),
    "project_id": ("project_id",),
    "project_name": ("project_name",),
    "user_id": ("user_id",),
    "api_key_id": ("api_key_id",),
    "organization_id": ("organization_id",),
    "organization_name": ("organization_name",),
    "model": ("model",),
    "batch_raw": ("batch",),
    "service_tier": ("service_tier",),
    "input_raw": ("input_tokens",),
    "cached_raw": ("input_cached_tokens",),
    "uncached_raw": ("input_uncached_tokens",),
    "cache_write_raw": ("input_cache_write_tokens",),
    "audio_in_raw": ("input_audio_tokens",),
    "cached_audio_raw": ("input_cached_audio_tokens",),
    "output_raw": ("output_tokens",),
    "audio_out_raw": ("output_audio_tokens",),
    "requests_raw": ("num_model_requests",),
    "amount_raw": ("amount_value",),
    "currency": ("amount_currency",),
    "line_item": ("line_item",),
    "quantity_raw": ("quantity",),
    "quantity_unit": ("quantity_unit",),
}

_USAGE_CSV_MARKERS = {
    "num_model_requests",
    "input_tokens",
    "output_tokens",
    "input_cached_tokens",
    "input_uncached_tokens",
}
_USAGE_RESULT_KEYS = {
    "num_model_requests",
    "input_tokens",
    "output_tokens",
    "input_cached_tokens",
    "input_uncached_tokens",
}


def csv_shape(header: list[str]) -> str | None:
    """'usage' | 'cost' | 'empty' (the time-columns-only export) for a dashboard CSV header, else None."""
    names = {h.strip().lower() for h in header}
    if not ({"start_time", "end_time"} <= names or {"start_time_iso", "end_time_iso"} <= names):
        return None
    if "amount_value" in names and names & {"line_item", "amount_currency"}:
        return "cost"
    if "num_model_requests" in names and len(names & _USAGE_CSV_MARKERS) >= 2:
        return "usage"
    if names == set(TIME_COLUMNS):
        return "empty"
    return None


def _buckets(record: Any) -> list[Any] | None:
    """The buckets of a sniffed record: a page's `data`, or the record itself if it is a bucket."""
    if not isinstance(record, dict):
        return None
    if isinstance(record.get("data"), list):
        return record["data"]
    if isinstance(record.get("results"), list) and ("start_time" in record or record.get("object") == "bucket"):
        return [record]
    return None


def classify_record(record: Any) -> tuple[bool, bool]:
    """(mine, strong) for one sniffed JSON record."""
    buckets = _buckets(record)
    if buckets is None:
        return False, False
    strong = False
    for bucket in buckets[:20]:
        if not isinstance(bucket, dict) or "starting_at" in bucket or "start_time" not in bucket:
            return False, False  # Anthropic buckets say starting_at; anything else is not a usage bucket
        results = bucket.get("results", bucket.get("result"))
        if not isinstance(results, list):
            return False, False
        for result in results[:20]:
            if not isinstance(result, dict):
                return False, False
            kind = str(result.get("object", ""))
            if kind.startswith(("organization.usage.", "organization.costs.")):
                strong = True
            elif result.keys() & _USAGE_RESULT_KEYS and "uncached_input_tokens" not in result:
                strong = True
            elif "line_item" in result and isinstance(result.get("amount"), dict):
                strong = True
    if strong:
        return True, True
    # An empty page (a range with no activity) is only OpenAI's if it says so.
    return isinstance(record, dict) and record.get("object") in ("page", "bucket"), False


class OpenAIBillingAdapter(Adapter):
    name = "openai_billing"
    target = "billing_lines"
    description = "OpenAI usage and cost exports (dashboard CSV, Usage / Costs API pages)"
    containers = ("jsonl", "json", "csv", "parquet")

    def detect(self, src: Source, ctx: IngestContext) -> int:
        if src.container in ("csv", "parquet"):
            shape = csv_shape(src.header)
            return {"usage": 95, "cost": 95, "empty": 60}.get(shape or "", 0)
        return vote_of_records(src, classify_record, weak=40)

    def stage(self, con: duckdb.DuckDBPyConnection, src: Source, ctx: IngestContext) -> None:
        if src.container in ("csv", "parquet"):
            load_tabular(con, src)
            shape = csv_shape(src.header) or "usage"
            projection = ", ".join(f"{column_ref(src, *names)} AS {name}" for name, names in CSV_COLUMNS.items())
            # shape is one of three literals chosen above, never input text
            con.execute(
                f"CREATE OR REPLACE TEMP VIEW openai_billing_src AS SELECT source_row, "
                f"CAST(NULL AS VARCHAR) AS loc, CAST(0 AS BIGINT) AS result_order, '{shape}' AS shape, "
                f"CAST(NULL AS VARCHAR) AS result_object, "
                f"CAST(NULL AS VARCHAR) AS issue, CAST(NULL AS VARCHAR) AS empty_note, {projection} FROM raw_rows"
            )
        else:
            load_json_records(con, src)
            self.run_sql(con, "staging/openai_billing_json.sql")
        self.run_sql(con, "staging/openai_billing.sql")
        # a view for CSV, a table for JSON: drop it so the next file in this connection can make either
        kind = "VIEW" if src.container in ("csv", "parquet") else "TABLE"
        con.execute(f"DROP {kind} openai_billing_src")


ADAPTER = OpenAIBillingAdapter()
