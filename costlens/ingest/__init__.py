"""Ingest: find input files, detect their format, bulk-load each one atomically into canonical tables."""
