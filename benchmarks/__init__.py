"""costlens benchmark suite: a seeded data generator (`python -m benchmarks.generate`) and the runner that
measures every performance figure of the performance issue and writes benchmarks/RESULTS.md
(`python -m benchmarks.run`). Not part of the test suite; tests/test_benchmark_smoke.py runs a small version."""
