"""Reconciliation of request logs with billing exports: coverage, named causes of the gap, allocation of
unowned spend to features, and billed-price calibration. See sql/reconcile/."""

from costlens.model.reconcile import Reconciliation
from costlens.reconcile.build import allocation_rows, reconcile

__all__ = ["Reconciliation", "allocation_rows", "reconcile"]
