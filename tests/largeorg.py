"""A large organisation's two months of calls, generated with DuckDB: 400 features, 200,000 calls.

September and October 2026, 100,000 calls each. A call's feature is log-uniform over 1..400 (feature k gets
about 1/k of the calls), so a few features carry most of the spend and a long tail carries little, as in a real
organisation. Every fourth feature (k % 4 == 1, 100 features) doubles its input tokens in October, so the growth
is spread over many features and the diagnosis has dozens of drivers to name. Models: acme-big ($10 in /
$30 out per Mtok) for k % 3 == 0, acme-small ($1 / $2) otherwise, priced by `[[prices.overrides]]`. Each feature
has an owner (40), a team (25), a cost center (10) and a monthly budget that about a third of them exceed.

    python -m tests.largeorg OUT_DIR    # writes OUT_DIR/calls.csv and OUT_DIR/costlens.toml
"""

from __future__ import annotations

import sys
from pathlib import Path

FEATURES = 400
CALLS_PER_MONTH = 100_000


def feature_name(k: int) -> str:
    return f"feature-{k:03d}"


def write(out: Path, features: int = FEATURES, calls_per_month: int = CALLS_PER_MONTH) -> tuple[Path, Path]:
    import duckdb

    out.mkdir(parents=True, exist_ok=True)
    calls = out / "calls.csv"
    con = duckdb.connect()
    con.execute(f"""
        COPY (
            WITH months AS (SELECT * FROM (VALUES (0, DATE '2026-09-01', 30), (1, DATE '2026-10-01', 31)) m(m, start, days)),
            raw AS (
                SELECT m.m, m.start, m.days, i,
                       least({features}, greatest(1, CAST(floor(pow({features}, (hash(i, m.m) % 1000003) / 1000003.0))
                                                  AS INTEGER))) AS k
                FROM months m, range({calls_per_month}) r(i)
            )
            SELECT printf('c%d-%d', m, i) AS call_id,
                   strftime(start + CAST(i % days AS INTEGER) * INTERVAL 1 DAY + (i % 86000) * INTERVAL 1 SECOND,
                            '%Y-%m-%dT%H:%M:%SZ') AS ts,
                   'acme' AS provider,
                   CASE WHEN k % 3 = 0 THEN 'acme-big' ELSE 'acme-small' END AS model,
                   (500 + hash(i, 7) % 1500) * CASE WHEN m = 1 AND k % 4 = 1 THEN 2 ELSE 1 END AS input_tokens,
                   100 + hash(i, 11) % 300 AS output_tokens,
                   printf('t%d-%d', m, i) AS task_id,
                   printf('feature-%03d', k) AS feature,
                   'ok' AS status
            FROM raw ORDER BY m, i
        ) TO '{calls}' (HEADER, DELIMITER ',')""")
    spend = dict(
        con.execute(f"""
        SELECT printf('feature-%03d', k), sum(c) FROM (
            SELECT least({features}, greatest(1, CAST(floor(pow({features}, (hash(i, 1) % 1000003) / 1000003.0))
                                                AS INTEGER))) AS k, 1 AS c FROM range({calls_per_month}) r(i))
        GROUP BY ALL""").fetchall()
    )
    con.close()
    lines = [
        "[[ingest.mappings]]",
        'name = "large org"',
        'match = "calls.csv"',
        "[ingest.mappings.columns]",
        *(
            f'{c} = "{c}"'
            for c in (
                "call_id",
                "ts",
                "provider",
                "model",
                "input_tokens",
                "output_tokens",
                "task_id",
                "feature",
                "status",
            )
        ),
        "",
        "[prices]",
        "overrides = [",
        '  { provider = "acme", model = "acme-big", input_mtok = 10, output_mtok = 30 },',
        '  { provider = "acme", model = "acme-small", input_mtok = 1, output_mtok = 2 },',
        "]",
        "",
    ]
    for k in range(1, features + 1):
        calls_k = spend.get(feature_name(k), 0)
        per_call = 0.036 if k % 3 == 0 else 0.0015  # ≈ the mean cost of a call of its model
        budget = max(1, round(calls_k * per_call * (0.8 if k % 3 == 1 else 1.5)))
        lines += [
            f'[features."{feature_name(k)}"]',
            f'owner = "owner-{k % 40:02d}@example.com"',
            f'team = "team-{k % 25:02d}"',
            f'cost_center = "CC-{k % 10}"',
            f"monthly_budget_usd = {budget}",
            "",
        ]
    config = out / "costlens.toml"
    config.write_text("\n".join(lines), encoding="utf-8")
    return calls, config


if __name__ == "__main__":
    calls, config = write(Path(sys.argv[1]))
    print(calls, config)
