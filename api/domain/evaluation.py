"""A trial's evaluation, whatever its therapy: the facts the rules read and the result they give, and
`evaluate()`, which hands the trial to its therapy's rules through the registry (therapies.py)."""

from __future__ import annotations

from .facts import (
    MET,
    NOT_ASSESSED,
    NOT_MET,
    Baseline,
    BucketSummary,
    Criterion,
    Entry,
    Result,
    TrialFacts,
)
from .therapies import evaluate

__all__ = ["MET", "NOT_ASSESSED", "NOT_MET", "Baseline", "BucketSummary", "Criterion", "Entry", "Result",
           "TrialFacts", "evaluate"]
