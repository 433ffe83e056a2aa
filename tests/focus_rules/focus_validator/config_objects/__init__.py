from .common import ChecklistObjectStatus
from .override import Override
from .rule import ChecklistObject, InvalidRule, Rule

__all__ = [
    "ChecklistObject",
    "ChecklistObjectStatus",
    "Rule",
    "InvalidRule",
    "Override",
]
