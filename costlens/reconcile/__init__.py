"""Reconciliation of request logs with billing exports: coverage, named causes of the gap, allocation of
unowned spend to features, and billed-price calibration. See sql/reconcile/."""

from costlens.reconcile.allocate import allocation_rows
from costlens.reconcile.build import reconcile
from costlens.reconcile.model import Reconciliation

__all__ = ["Reconciliation", "allocation_rows", "reconcile"]
