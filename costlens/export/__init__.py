"""Exports of costlens data in other tools' formats (FOCUS for FinOps platforms)."""
