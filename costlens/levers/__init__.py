"""Levers (docs/definitions.md#levers): ranked, non-overlapping savings from the leak findings; the decision-tree
diagnosis; self-hosting / distillation break-even. What-if re-pricing lives in costlens.whatif."""

from costlens.levers.diagnose import PeriodSnapshot, diagnose
from costlens.levers.rank import rank_levers
from costlens.model.levers import Diagnosis, Lever, LeverPlan

__all__ = ["Diagnosis", "Lever", "LeverPlan", "PeriodSnapshot", "diagnose", "rank_levers"]
