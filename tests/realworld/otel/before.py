"""What costlens makes of the corpus today: ingest each span file into a fresh database and report.

For every setup in OUTDIR and both file forms (OTLP/JSON lines, flat span JSON lines) this runs::

    costlens ingest FILE --db DB  &&  costlens report --db DB --format json

(with the ``costlens`` that sits next to the running interpreter, or, when ``COSTLENS_SRC`` names a clean
export of a costlens commit — ``git archive COMMIT | tar -x -C DIR`` — with ``python -m costlens`` run
from that export, so that the figures belong to one commit and not to a work tree being edited) and compares the totals with the
reference in ``SETUP.expected.json`` (see expected.py). Writes ``OUTDIR/BEFORE.json`` and prints a
markdown table.

    python tests/realworld/otel/before.py OUTDIR
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
COSTLENS = str(Path(sys.executable).with_name("costlens"))
if not Path(COSTLENS).exists():
    COSTLENS = shutil.which("costlens") or "costlens"


SRC = os.environ.get("COSTLENS_SRC")


def _costlens(*args: str, cwd: str | None = None) -> subprocess.CompletedProcess:
    """Runs in `cwd` (a scratch directory), so no costlens.toml / pyproject.toml of the caller's work tree applies."""
    if SRC:
        env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
        cmd = [sys.executable, "-m", "costlens", *args]
    else:
        env, cmd = None, [COSTLENS, *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env, cwd=cwd)


def costlens_version() -> dict[str, Any]:
    if SRC:
        commit = Path(SRC, "COMMIT").read_text().strip() if Path(SRC, "COMMIT").exists() else None
        return {"source": "export", "commit": commit}
    try:
        commit = subprocess.run(
            ["git", "-C", str(HERE), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=30
        ).stdout.strip()
    except OSError:
        commit = None
    return {"source": "installed costlens (work tree; may hold uncommitted changes)", "commit": commit}


def costlens_totals(path: Path) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        db = str(Path(tmp) / "x.duckdb")
        ing = _costlens("ingest", str(path.resolve()), "--db", db, "--quiet", cwd=tmp)
        out: dict[str, Any] = {
            "ingest_rc": ing.returncode,
            "ingest": " ".join((ing.stdout + ing.stderr).split())[-400:],
        }
        m = re.search(
            r"rows read (\d+) = loaded (\d+) \+ duplicate (\d+) \+ quarantined (\d+) \+ skipped (\d+)", out["ingest"]
        )
        if m:
            out.update(
                rows_read=int(m[1]), loaded=int(m[2]), duplicate=int(m[3]), quarantined=int(m[4]), skipped=int(m[5])
            )
        if ing.returncode != 0:
            return out
        rep = _costlens("report", "--db", db, "--format", "json", cwd=tmp)
        out["report_rc"] = rep.returncode
        if rep.returncode != 0:
            out["report"] = (rep.stdout + rep.stderr)[-400:]
            return out
        doc = json.loads(rep.stdout)
        t = doc.get("totals", {})
        out["calls"] = t.get("calls")
        out["cost_usd"] = t.get("cost_usd")
        out["unpriced_calls"] = t.get("unpriced_calls")
        out["by_feature"] = {
            u.get("feature"): {"calls": u.get("calls"), "cost_usd": u.get("cost_usd")}
            for u in doc.get("unit_economics", [])
        }
        ue = doc.get("unit_economics", [])
        out["tokens"] = {
            k: sum((u.get(k) or 0) for u in ue)
            for k in ("input_tokens", "cache_read_tokens", "cache_write_tokens", "output_tokens")
        }
        try:  # per-status call counts straight from the database
            import duckdb

            con = duckdb.connect(db, read_only=True)
            out["status_counts"] = dict(con.execute("SELECT status, count(*) FROM calls GROUP BY 1").fetchall())
            con.close()
        except Exception as exc:  # noqa: BLE001
            out["status_counts_error"] = repr(exc)
        return out


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: before.py OUTDIR", file=sys.stderr)
        return 2
    outdir = Path(argv[0])
    result: dict[str, Any] = {"_costlens": costlens_version()}
    rows = []
    for exp_path in sorted(outdir.glob("*.expected.json")):
        setup = exp_path.name[: -len(".expected.json")]
        exp = json.loads(exp_path.read_text())
        ref = exp["totals"]
        entry: dict[str, Any] = {
            "reference": {
                k: ref[k]
                for k in ("calls", "ok_calls", "failed_calls", "reference_cost_usd", "truth_cost_usd", "by_feature")
            }
        }
        for form in ("otlp", "spans"):
            entry[form] = costlens_totals(outdir / f"{setup}.{form}.jsonl")
        result[setup] = entry

        def cell(d: dict[str, Any]) -> str:
            if d.get("ingest_rc") not in (0, None) or "calls" not in d:
                return "ingest failed" if d.get("ingest_rc") else "no report"
            return f"{d['calls']} / ${d['cost_usd']:.6f}"

        rows.append(
            f"| {setup} | {ref['calls']} ({ref['ok_calls']} ok) | ${ref['reference_cost_usd']:.6f} | "
            f"${ref['truth_cost_usd']:.6f} | {cell(entry['otlp'])} | {cell(entry['spans'])} |"
        )
    (outdir / "BEFORE.json").write_text(json.dumps(result, indent=1) + "\n")
    print(f"costlens: {result['_costlens']}")
    print(
        "| setup | calls (reference) | reference cost | truth cost | costlens today: OTLP calls / cost | "
        "costlens today: flat spans calls / cost |"
    )
    print("|---|---|---|---|---|---|")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
