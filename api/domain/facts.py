"""What the evaluation rules of every therapy read and return: the trial's facts, its valid entries, the
criteria, and the result record (docs/clinical-rules.md §2 "The evaluation record")."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .mme import Medication


@dataclass(frozen=True)
class Baseline:
    pain: float
    mme: float | None = None
    odi: float | None = None
    interference: float | None = None


@dataclass(frozen=True)
class Entry:
    """A valid diary entry as the rules see it (current version, not voided)."""

    recorded_at: datetime
    pain_score: float
    key: str = ""  # breaks ties between entries recorded at the same instant (the client_id)
    interference: float | None = None
    odi: float | None = None
    pgic: int | None = None
    sedation_score: int | None = None
    symptoms: tuple[str, ...] = ()
    medications: tuple[Medication, ...] = ()
    relief_percent: float | None = None  # the patient's own estimate (pain.relief_percent), for blocks
    stored: int = 0  # storage order (the row id): "the earlier stored first" among equal recorded_at
    received_at: datetime | None = None  # when the server first stored it (domain/timeliness.py)


@dataclass(frozen=True)
class TrialFacts:
    therapy: str
    start_at: datetime
    end_at: datetime
    timezone: str
    baseline: Baseline
    protocol: dict[str, Any]
    agent: str | None = None  # the local anaesthetic of a block (docs/blocks.md)


@dataclass(frozen=True)
class BucketSummary:
    index: int
    label: str
    start: datetime
    end: datetime
    closed: bool
    counted: bool
    entries: int
    pain: float | None
    mme: float | None
    interference: float | None


@dataclass(frozen=True)
class Criterion:
    name: str
    required: bool
    status: str  # met, not_met, not_assessed
    value: Any
    threshold: Any

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "required": self.required,
            "status": self.status,
            "value": self.value,
            "threshold": self.threshold,
        }


@dataclass(frozen=True)
class Result:
    evaluated_at: datetime
    final: bool
    outcome: str  # success, failure, insufficient_data
    protocol: dict[str, Any]
    metrics: dict[str, Any]
    criteria: list[Criterion]
    buckets: list[BucketSummary] = field(default_factory=list)
    timepoints: list[Any] = field(default_factory=list)  # blocks.Timepoint, for a block's charts


MET, NOT_MET, NOT_ASSESSED = "met", "not_met", "not_assessed"
CRITERION_STATUSES = (MET, NOT_MET, NOT_ASSESSED)
OUTCOMES = ("success", "failure", "insufficient_data")


def status(assessed: bool, met: bool) -> str:
    if not assessed:
        return NOT_ASSESSED
    return MET if met else NOT_MET
