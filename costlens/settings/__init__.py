"""The analyses' settings — defaults, meanings and validation of `[leaks]`, `[levers]` and `[whatif]` — below
the analyses, so config.py validates every table at load without importing an analysis (docs/architecture.md)."""
