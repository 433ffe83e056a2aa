"""Writes the per-setup span tables of ATTRIBUTES.md from the generated corpus.

    python tests/realworld/otel/describe.py OUTDIR [ATTRIBUTES.md]

Replaces the text between ``<!-- GENERATED:BEGIN -->`` and ``<!-- GENERATED:END -->`` (prints it when no
file is given). Reads OUTDIR/SETUP.otlp.jsonl, .run.json, .expected.json and BEFORE.json.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from expected import Span, read_otlp  # noqa: E402
from setups import SETUPS  # noqa: E402

KIND = {0: "UNSPECIFIED", 1: "INTERNAL", 2: "SERVER", 3: "CLIENT", 4: "PRODUCER", 5: "CONSUMER"}
USAGE_KEY = re.compile(
    r"^(gen_ai\.usage\.|gen_ai\.aggregated_usage\.|llm\.token_count\.|anthropic\.usage\.|operation\.cost$)"
)
MODEL_KEYS = (
    "gen_ai.request.model",
    "gen_ai.response.model",
    "llm.request.model_name",
    "llm.response.model_name",
    "llm.model_name",
    "model_name",
)
ID_KEYS = ("gen_ai.response.id",)
PROVIDER_KEYS = ("gen_ai.provider.name", "gen_ai.system", "llm.provider", "llm.system")


def _fmt(v: Any, limit: int = 60) -> str:
    s = v if isinstance(v, str) else json.dumps(v)
    s = s.replace("|", "\\|").replace("\n", " ")
    return s if len(s) <= limit else s[: limit - 1] + "…"


def span_rows(setup: str, spans: list[Span], exp: dict[str, Any]) -> list[str]:
    by_id = {s.span_id: s for s in spans}
    label_of: dict[str, str] = {}
    for c in exp.get("calls", []):
        for layer, lu in c.get("layers", {}).items():
            label_of[lu["span_id"]] = f"{c['label']} ({layer})"
            if lu.get("usage_span"):
                label_of[lu["usage_span"]["span_id"]] = f"{c['label']} ({layer}, usage)"
    rows = [
        "| # | span name | kind | scope | parent | call | provider / model | usage attributes | response id | status |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    index = {s.span_id: i + 1 for i, s in enumerate(spans)}
    for i, s in enumerate(spans, 1):
        parent = by_id.get(s.parent_id or "")
        ptxt = f"#{index[parent.span_id]} {parent.name}" if parent else "—"
        prov = next((f"{k}={_fmt(s.attrs[k], 30)}" for k in PROVIDER_KEYS if k in s.attrs), "")
        models = ", ".join(f"{k}={_fmt(s.attrs[k], 40)}" for k in MODEL_KEYS if k in s.attrs)
        usage = ", ".join(
            f"{k}={_fmt(s.attrs[k], 20)}" for k in sorted(s.attrs) if USAGE_KEY.match(k) and k != "gen_ai.usage.raw"
        )
        if "gen_ai.usage.raw" in s.attrs:
            usage += ", gen_ai.usage.raw=(JSON)"
        rid = next((f"{k}={_fmt(s.attrs[k], 40)}" for k in ID_KEYS if k in s.attrs), "")
        status = {0: "unset", 1: "OK", 2: "ERROR"}.get(s.status_code, str(s.status_code))
        if "error.type" in s.attrs:
            status += f" error.type={_fmt(s.attrs['error.type'], 40)}"
        if "http.response.status_code" in s.attrs:
            status += f" http={s.attrs['http.response.status_code']}"
        if "exception" in s.events:
            status += " +exception event"
        extra = [e for e in s.events if e != "exception"]
        if extra:
            status += f" events: {', '.join(sorted(set(extra)))}×{len(extra)}"
        if s.attrs.get("logfire.span_type") == "log":
            status += " (logfire log span)"
        rows.append(
            f"| {i} | `{_fmt(s.name, 70)}` | {KIND.get(s.kind, s.kind)} | {s.scope} | {ptxt} | "
            f"{label_of.get(s.span_id, '')} | {prov} {models} | {usage} | {rid} | {status} |"
        )
    return rows


def shapes(spans: list[Span]) -> list[str]:
    """The raw attribute names, per distinct (scope, span name, attribute-name set)."""
    seen: dict[tuple[str, str, tuple[str, ...]], list[int]] = {}
    for i, s in enumerate(spans, 1):
        key = (s.scope, s.name, tuple(sorted(s.attrs)))
        seen.setdefault(key, []).append(i)
    out = []
    for (scope, name, keys), idx in seen.items():
        out.append(
            f"- spans {', '.join('#' + str(i) for i in idx)} — `{name}` ({scope}): " + ", ".join(f"`{k}`" for k in keys)
        )
    return out


def section(outdir: Path, setup: str, before: dict[str, Any]) -> list[str]:
    run = json.loads((outdir / f"{setup}.run.json").read_text())
    exp = json.loads((outdir / f"{setup}.expected.json").read_text())
    spans = read_otlp(outdir / f"{setup}.otlp.jsonl")
    s = SETUPS[setup]
    lines = [f"### `{setup}`", ""]
    lines.append(f"{s.library} — API: {s.api}." + (f" {s.description}" if s.description else ""))
    if run.get("anthropic_sdk_tracing") is not None:
        lines.append(
            f"anthropic SDK built-in tracing: {'on (SDK default)' if run['anthropic_sdk_tracing'] else 'off (open_telemetry=False)'}."
        )
    lines.append("")
    lines.append("Versions: " + ", ".join(f"{k} {v}" for k, v in run["versions"].items() if v) + ".")
    lines.append("")
    lines += span_rows(setup, spans, exp)
    lines.append("")
    t = exp["totals"]
    gaps = {c["label"]: c.get("gaps") for c in exp["calls"] if c.get("gaps")}
    lines.append(
        f"Reference: {t['calls']} calls ({t['failed_calls']} failed), ${t['reference_cost_usd']:.6f} from what "
        f"the `{exp['primary_layer']}` spans carry (truth from the bodies: ${t['truth_cost_usd']:.6f}; "
        f"with web searches ${t['truth_cost_with_tools_usd']:.6f})."
    )
    if gaps:
        lines.append(
            "Gaps vs the recorded bodies (additive convention): "
            + "; ".join(f"{k}: {json.dumps(v)}" for k, v in gaps.items())
            + "."
        )
    b = before.get(setup, {})
    for form in ("otlp", "spans"):
        d = b.get(form) or {}
        if "calls" in d:
            lines.append(
                f"costlens today ({form}): {d['calls']} calls, ${d['cost_usd']:.6f}, features "
                + ", ".join(f"{k}: {v['calls']}" for k, v in d.get("by_feature", {}).items())
                + f"; ingest: {d.get('rows_read')} read, {d.get('loaded')} loaded, {d.get('skipped')} skipped, "
                f"{d.get('quarantined')} quarantined."
            )
        elif d:
            lines.append(f"costlens today ({form}): {d.get('ingest', '')[:200]}")
    lines.append("")
    lines.append("Attribute names per span shape:")
    lines.append("")
    lines += shapes(spans)
    lines.append("")
    return lines


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: describe.py OUTDIR [ATTRIBUTES.md]", file=sys.stderr)
        return 2
    outdir = Path(argv[0])
    before_path = outdir / "BEFORE.json"
    before = json.loads(before_path.read_text()) if before_path.exists() else {}
    lines: list[str] = []
    for setup in SETUPS:
        if (outdir / f"{setup}.expected.json").exists():
            lines += section(outdir, setup, before)
    text = "\n".join(lines)
    if len(argv) > 1:
        path = Path(argv[1])
        doc = path.read_text()
        begin, end = "<!-- GENERATED:BEGIN -->", "<!-- GENERATED:END -->"
        head, rest = doc.split(begin, 1)
        _, tail = rest.split(end, 1)
        path.write_text(f"{head}{begin}\n\n{text}\n{end}{tail}")
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
