#!/usr/bin/env bash
# Run the steps of costlens-monthly.yml on this machine, with the same costlens commands, against a folder of
# logs — so the workflow can be tried before it is committed (tests/test_ci_example.py keeps the two in step).
#
#   examples/github-actions/run-locally.sh LOGS_FOLDER [WORK_DIR]
#
# Environment (same names as the workflow):
#   COSTLENS_SOURCE      where to install llm-costlens from when `costlens` is not on PATH, e.g.
#                        git+https://<host>/<owner>/costlens@<tag> (or the path of a checkout); installed into
#                        WORK_DIR/.venv. Not needed when `costlens` is already on PATH.
#   COSTLENS_PERIOD      default last-month (the sample month: 2026-10)
#   COSTLENS_CONFIG      default LOGS_FOLDER/costlens.toml if present, else ./costlens.toml
#   COSTLENS_DB          default WORK_DIR/costlens.duckdb
#   COSTLENS_BASELINE    last month's JSON report (the workflow downloads it from its previous run); default
#                        previous: the month before, from the database
#   GITHUB_STEP_SUMMARY  default WORK_DIR/step-summary.md
# The reports are written to WORK_DIR (default: a new temporary folder). The exit code is the gate's: 0 no rule
# failed (warnings allowed), 4 a threshold was breached (2/3/5: bad options, input or database).
set -euo pipefail

if [ $# -lt 1 ]; then
    echo "usage: $0 LOGS_FOLDER [WORK_DIR]" >&2
    exit 2
fi
LOGS_ABS="$(cd "$1" && pwd)"
WORK_DIR="${2:-$(mktemp -d -t costlens-ci.XXXXXX)}"
mkdir -p "$WORK_DIR"
WORK_DIR="$(cd "$WORK_DIR" && pwd)"

if [ -z "${COSTLENS_CONFIG:-}" ]; then
    if [ -f "$LOGS_ABS/costlens.toml" ]; then COSTLENS_CONFIG="$LOGS_ABS/costlens.toml"; else COSTLENS_CONFIG="$PWD/costlens.toml"; fi
fi
if [ -n "${COSTLENS_BASELINE:-}" ] && [ "$COSTLENS_BASELINE" != "previous" ] && [ "$COSTLENS_BASELINE" != "none" ]; then
    COSTLENS_BASELINE="$(cd "$(dirname "$COSTLENS_BASELINE")" && pwd)/$(basename "$COSTLENS_BASELINE")"
fi
export COSTLENS_LOGS="$LOGS_ABS"
export COSTLENS_PERIOD="${COSTLENS_PERIOD:-last-month}"
export COSTLENS_CONFIG
export COSTLENS_DB="${COSTLENS_DB:-$WORK_DIR/costlens.duckdb}"
export COSTLENS_BASELINE="${COSTLENS_BASELINE:-previous}"
export GITHUB_STEP_SUMMARY="${GITHUB_STEP_SUMMARY:-$WORK_DIR/step-summary.md}"
cd "$WORK_DIR"
echo "costlens CI steps: logs $COSTLENS_LOGS, period $COSTLENS_PERIOD, config $COSTLENS_CONFIG, baseline $COSTLENS_BASELINE, output $WORK_DIR" >&2

# Install costlens (skipped when it is already on PATH)
if ! command -v costlens > /dev/null; then
    if [ -z "${COSTLENS_SOURCE:-}" ]; then
        echo "run-locally.sh: error: costlens is not on PATH and COSTLENS_SOURCE is unset — set COSTLENS_SOURCE to the llm-costlens source, e.g. git+https://<host>/<owner>/costlens@<tag> or a checkout's path (costlens README, Install)" >&2
        exit 2
    fi
    python3 -m venv "$WORK_DIR/.venv"
    "$WORK_DIR/.venv/bin/pip" install -q "llm-costlens @ $COSTLENS_SOURCE"
    PATH="$WORK_DIR/.venv/bin:$PATH"
fi
# Last month's report (the baseline): COSTLENS_BASELINE, as given
# Ingest logs and bills
costlens ingest $COSTLENS_LOGS --config "$COSTLENS_CONFIG"
# JSON report (next month's baseline)
costlens report --period "$COSTLENS_PERIOD" --config "$COSTLENS_CONFIG" --format json --out costlens-report.json
# HTML report for finance
costlens report --period "$COSTLENS_PERIOD" --config "$COSTLENS_CONFIG" --format html --out costlens-report.html
# Job summary (the gate, and the change vs last month)
costlens check --report costlens-report.json --config "$COSTLENS_CONFIG" --baseline "$COSTLENS_BASELINE" --format md >> "$GITHUB_STEP_SUMMARY" || [ $? -eq 4 ]
if [ -f "$COSTLENS_BASELINE" ]; then costlens diff "$COSTLENS_BASELINE" costlens-report.json --format md >> "$GITHUB_STEP_SUMMARY"; fi
# Upload the report and the database: locally, the files stay in WORK_DIR
echo "reports: $WORK_DIR/costlens-report.html, $WORK_DIR/costlens-report.json; database: $COSTLENS_DB; summary: $GITHUB_STEP_SUMMARY" >&2
# Cost gate
costlens check --report costlens-report.json --config "$COSTLENS_CONFIG" --baseline "$COSTLENS_BASELINE" --format github
