#!/usr/bin/env bash
# Run the steps of costlens-monthly.yml on this machine, with the same costlens commands, against a folder of
# logs — so the workflow can be tried before it is committed (tests/test_ci_example.py keeps the two in step).
#
#   examples/github-actions/run-locally.sh LOGS_FOLDER [WORK_DIR]
#
# Environment (same names as the workflow): COSTLENS_PERIOD (default last-month), COSTLENS_CONFIG (default
# LOGS_FOLDER/costlens.toml if present, else ./costlens.toml), COSTLENS_DB (default WORK_DIR/costlens.duckdb),
# GITHUB_STEP_SUMMARY (default WORK_DIR/step-summary.md). The reports are written to WORK_DIR (default:
# a new temporary folder). The exit code is the gate's: 0 passed, 4 a threshold was breached (2/3: bad input).
# Needs `costlens` on PATH (pip install costlens, or pip install . in the costlens repository).
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
export COSTLENS_LOGS="$LOGS_ABS"
export COSTLENS_PERIOD="${COSTLENS_PERIOD:-last-month}"
export COSTLENS_CONFIG
export COSTLENS_DB="${COSTLENS_DB:-$WORK_DIR/costlens.duckdb}"
export GITHUB_STEP_SUMMARY="${GITHUB_STEP_SUMMARY:-$WORK_DIR/step-summary.md}"
cd "$WORK_DIR"
echo "costlens CI steps: logs $COSTLENS_LOGS, period $COSTLENS_PERIOD, config $COSTLENS_CONFIG, output $WORK_DIR" >&2

# Ingest logs and bills
costlens ingest $COSTLENS_LOGS --config "$COSTLENS_CONFIG"
# HTML report for finance
costlens report --period "$COSTLENS_PERIOD" --config "$COSTLENS_CONFIG" --format html --out costlens-report.html
# JSON report (a baseline for later checks)
costlens report --period "$COSTLENS_PERIOD" --config "$COSTLENS_CONFIG" --format json --out costlens-report.json
# Markdown summary on the job page
costlens report --period "$COSTLENS_PERIOD" --config "$COSTLENS_CONFIG" --format md >> "$GITHUB_STEP_SUMMARY"
# Upload the report: locally, the files stay in WORK_DIR
echo "reports: $WORK_DIR/costlens-report.html, $WORK_DIR/costlens-report.json; summary: $GITHUB_STEP_SUMMARY" >&2
# Cost gate
costlens check --period "$COSTLENS_PERIOD" --config "$COSTLENS_CONFIG" --baseline previous
