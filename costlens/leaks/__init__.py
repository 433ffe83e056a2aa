"""Leak detection (docs/definitions.md#leaks): one SQL detector per kind in sql/leaks/, run over the report
period's tables."""

from costlens.leaks.detect import run_detectors
from costlens.model.leaks import KINDS, Finding
from costlens.settings.leaks import DEFAULT_THRESHOLDS, resolve_thresholds

__all__ = ["DEFAULT_THRESHOLDS", "KINDS", "Finding", "resolve_thresholds", "run_detectors"]
