"""Anthropic usage and cost reports → billing_lines: Admin API pages (JSON) and the Console CSV exports.

Four shapes, told apart by content (never by file name):

* usage report `/v1/organizations/usage_report/messages` pages `{data: [{starting_at, ending_at,
  results: [{uncached_input_tokens, cache_read_input_tokens, cache_creation{ephemeral_5m_input_tokens,
  ephemeral_1h_input_tokens}, output_tokens, server_tool_use{web_search_requests}, workspace_id, api_key_id,
  model, service_tier, context_window, inference_geo}]}], has_more, next_page}` (also JSON lines of pages,
  an array of pages, or bare buckets);
* cost report `/v1/organizations/cost_report` pages, same envelope, results `{amount, currency, cost_type,
  description, model, service_tier, context_window, token_type, workspace_id}` — `amount` is a decimal
  STRING in the currency's lowest unit (cents): USD = amount / 100, exact;
* the Console usage CSV (`usage_date_utc, model_version, api_key, workspace, usage_type, context_window,
  usage_input_tokens_no_cache, usage_input_tokens_cache_write_5m, usage_input_tokens_cache_write_1h,
  usage_input_tokens_cache_read, usage_output_tokens, web_search_count, inference_geo, speed`);
* the Console cost CSV (`usage_date_utc, model, workspace, api_key, usage_type, context_window, token_type,
  cost_usd, list_price_usd, cost_type, inference_geo, speed` [+ api_key_id, api_key_status]) — `model` is a
  display name ("Claude Haiku 4.5", "Claude 3.5 Haiku"), mapped to a model id by a rule.

Both JSON and CSV are projected onto one intermediate view `anthropic_billing_src`;
`sql/staging/anthropic_billing.sql` turns it into billing lines. Anthropic's uncached input EXCLUDES cache
reads and writes, so the usage counts are already additive. Usage lines carry no money (billed_cost /
effective_cost NULL) and are flagged `charge_class = 'usage-only'`. All lines are AI spend (provider
anthropic).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from costlens.ingest.base import Adapter, IngestContext, vote_of_records
from costlens.ingest.readers import column_ref, load_json_records, load_tabular
from costlens.ingest.sources import Source

if TYPE_CHECKING:
    import duckdb

# Name in anthropic_billing_src → Console CSV header names that may carry it (first present wins).
CSV_COLUMNS: dict[str, tuple[str, ...]] = {
    "start_raw": ("usage_date_utc",),
    "model": ("model_version", "model"),
    "api_key_id": ("api_key_id",),
    "api_key_name": ("api_key",),
    "workspace_id": ("workspace_id",),
    "workspace_name": ("workspace",),
    "tier_raw": ("usage_type",),
    "context_window_raw": ("context_window",),
    "inference_geo": ("inference_geo",),
    "speed": ("speed",),
    "uncached_raw": ("usage_input_tokens_no_cache",),
    "cw5_raw": ("usage_input_tokens_cache_write_5m",),
    "cw1_raw": ("usage_input_tokens_cache_write_1h",),
    "cache_read_raw": ("usage_input_tokens_cache_read",),
    "output_raw": ("usage_output_tokens",),
    "web_search_raw": ("web_search_count",),
    "token_type_raw": ("token_type",),
    "cost_usd_raw": ("cost_usd",),
    "list_usd_raw": ("list_price_usd",),
    "cost_type": ("cost_type",),
}

_USAGE_CSV_MARKERS = {
    "usage_input_tokens_no_cache",
    "usage_input_tokens_cache_read",
    "usage_output_tokens",
    "usage_input_tokens_cache_write_5m",
    "usage_input_tokens_cache_write_1h",
}
_USAGE_RESULT_KEYS = {"uncached_input_tokens", "cache_read_input_tokens", "cache_creation", "server_tool_use"}
_COST_RESULT_KEYS = {"cost_type", "token_type", "description"}


def csv_shape(header: list[str]) -> str | None:
    """'usage' | 'cost' for a Console export header, else None."""
    names = {h.strip().lower() for h in header}
    if "usage_date_utc" not in names:
        return None
    if len(names & _USAGE_CSV_MARKERS) >= 2:
        return "usage"
    if "cost_usd" in names and names & {"token_type", "cost_type"}:
        return "cost"
    return None


def _buckets(record: Any) -> list[Any] | None:
    if not isinstance(record, dict):
        return None
    if isinstance(record.get("data"), list):
        return record["data"]
    if isinstance(record.get("results"), list) and "starting_at" in record:
        return [record]
    return None


def classify_record(record: Any) -> tuple[bool, bool]:
    """(mine, strong) for one sniffed JSON record."""
    buckets = _buckets(record)
    if buckets is None or record.get("object") in ("page", "bucket"):  # OpenAI pages say object: page
        return False, False
    strong = False
    for bucket in buckets[:20]:
        if not isinstance(bucket, dict) or "starting_at" not in bucket or not isinstance(bucket.get("results"), list):
            return False, False
        for result in bucket["results"][:20]:
            if not isinstance(result, dict):
                return False, False
            if result.keys() & _USAGE_RESULT_KEYS:
                strong = True
            elif isinstance(result.get("amount"), str) and result.keys() & (_COST_RESULT_KEYS | {"currency"}):
                strong = True
    if strong:
        return True, True
    # An empty report page (no activity in the range): Anthropic's envelope, nothing else to go on.
    return set(record) <= {"data", "has_more", "next_page"} and "has_more" in record, False


class AnthropicBillingAdapter(Adapter):
    name = "anthropic_billing"
    target = "billing_lines"
    description = "Anthropic usage and cost reports (Admin API pages, Console CSV exports)"
    containers = ("jsonl", "json", "csv", "parquet")

    def detect(self, src: Source, ctx: IngestContext) -> int:
        if src.container in ("csv", "parquet"):
            return 95 if csv_shape(src.header) else 0
        return vote_of_records(src, classify_record, weak=30)

    def stage(self, con: duckdb.DuckDBPyConnection, src: Source, ctx: IngestContext) -> None:
        if src.container in ("csv", "parquet"):
            load_tabular(con, src)
            shape = csv_shape(src.header) or "usage"
            projection = ", ".join(f"{column_ref(src, *names)} AS {name}" for name, names in CSV_COLUMNS.items())
            # shape is one of two literals chosen above, never input text
            con.execute(
                f"CREATE OR REPLACE TEMP VIEW anthropic_billing_src AS SELECT source_row, "
                f"CAST(NULL AS VARCHAR) AS loc, CAST(0 AS BIGINT) AS result_order, '{shape}' AS shape, "
                f"'csv' AS origin, "
                f"CAST(NULL AS VARCHAR) AS issue, CAST(NULL AS VARCHAR) AS empty_note, "
                f"CAST(NULL AS VARCHAR) AS end_raw, CAST(NULL AS VARCHAR) AS amount_cents_raw, "
                f"CAST(NULL AS VARCHAR) AS currency, CAST(NULL AS VARCHAR) AS description, {projection} "
                f"FROM raw_rows"
            )
        else:
            load_json_records(con, src)
            self.run_sql(con, "staging/anthropic_billing_json.sql")
        self.run_sql(con, "staging/anthropic_billing.sql")
        # a view for CSV, a table for JSON: drop it so the next file in this connection can make either
        kind = "VIEW" if src.container in ("csv", "parquet") else "TABLE"
        con.execute(f"DROP {kind} anthropic_billing_src")


ADAPTER = AnthropicBillingAdapter()
