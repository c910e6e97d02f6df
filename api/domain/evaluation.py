"""The trial evaluation of evaluation.md: buckets, metrics, criteria and outcome, as one pure function."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from statistics import fmean
from typing import Any

from .buckets import Bucket, Calendar
from .mme import Medication, daily_mme
from .numbers import at_most, reaches, rounded


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


@dataclass(frozen=True)
class TrialFacts:
    therapy: str
    start_at: datetime
    end_at: datetime
    timezone: str
    baseline: Baseline
    protocol: dict[str, Any]


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


MET, NOT_MET, NOT_ASSESSED = "met", "not_met", "not_assessed"


def _status(assessed: bool, met: bool) -> str:
    if not assessed:
        return NOT_ASSESSED
    return MET if met else NOT_MET


def evaluate(trial: TrialFacts, entries: list[Entry], now: datetime) -> Result:
    """Apply the trial's protocol to its valid entries as of `now`."""
    protocol = trial.protocol
    baseline = trial.baseline
    window_end = min(trial.end_at, now)
    final = now >= trial.end_at
    calendar = Calendar(kind=protocol["bucket"], start_at=trial.start_at, timezone=trial.timezone)

    valid = [e for e in entries if trial.start_at <= e.recorded_at <= window_end]
    by_bucket: dict[int, list[Entry]] = defaultdict(list)
    for entry in valid:
        by_bucket[calendar.index_of(entry.recorded_at)].append(entry)

    evaluable = [
        calendar.bucket(i) for i in range(protocol["exclude_first_buckets"], calendar.begun_before(window_end))
    ]
    data = [b for b in evaluable if by_bucket.get(b.index)]
    counted = [b for b in evaluable if b.end <= window_end or by_bucket.get(b.index)]
    compliance = len(data) / len(counted) if counted else 0.0

    pain_by_bucket = {b.index: fmean(e.pain_score for e in by_bucket[b.index]) for b in data}
    trial_pain = fmean(pain_by_bucket.values()) if data else None
    relief = (baseline.pain - trial_pain) / baseline.pain * 100 if trial_pain is not None else None

    interference_by_bucket = {
        b.index: fmean(values)
        for b in data
        if (values := [e.interference for e in by_bucket[b.index] if e.interference is not None])
    }
    trial_interference = fmean(interference_by_bucket.values()) if interference_by_bucket else None

    counts_mme = protocol["bucket"] == "day"
    mme_by_bucket: dict[int, float] = {}
    unconverted: set[str] = set()
    if counts_mme:
        for b in data:
            day = daily_mme(e.medications for e in by_bucket[b.index])
            mme_by_bucket[b.index] = day.mme
            unconverted |= day.unconverted
    trial_mme = fmean(mme_by_bucket.values()) if mme_by_bucket else None

    latest_odi = _latest(valid, "odi")
    latest_pgic = _latest(valid, "pgic")
    sedation_scores = [e.sedation_score for e in valid if e.sedation_score is not None]
    max_sedation = max(sedation_scores) if sedation_scores else None
    respiratory_depression = any("respiratory_depression" in e.symptoms for e in valid)

    criteria = [
        _pain_relief(protocol, relief),
        _function(protocol, baseline, latest_odi, trial_interference),
        _analgesic_use(protocol, baseline, trial_mme if counts_mme else None),
        _side_effects(protocol, bool(valid), max_sedation, respiratory_depression),
        _pgic(protocol, latest_pgic),
    ]
    required = [c for c in criteria if c.required]
    if (
        len(data) < protocol["min_data_buckets"]
        or not reaches(compliance, protocol["min_compliance"])
        or any(c.status == NOT_ASSESSED for c in required)
    ):
        outcome = "insufficient_data"
    elif any(c.status == NOT_MET for c in required):
        outcome = "failure"
    else:
        outcome = "success"

    metrics = {
        "baseline_pain": float(baseline.pain),
        "trial_pain": trial_pain,
        "pain_relief_percent": rounded(relief, 1),
        "data_buckets": len(data),
        "counted_buckets": len(counted),
        "compliance": rounded(compliance, 3),
        "baseline_mme": rounded(baseline.mme, 1) if baseline.mme is not None else None,
        "trial_mme": rounded(trial_mme, 1),
        "unconverted_medications": sorted(unconverted),
        "latest_odi": latest_odi,
        "trial_interference": trial_interference,
        "latest_pgic": latest_pgic,
        "max_sedation_score": max_sedation,
    }
    summaries = [
        _summary(b, by_bucket.get(b.index, []), window_end, b in counted, pain_by_bucket,
                 mme_by_bucket, interference_by_bucket)
        for b in evaluable
    ]
    return Result(now, final, outcome, dict(protocol), metrics, criteria, summaries)


def _latest(entries: list[Entry], attribute: str) -> Any:
    carrying = [e for e in entries if getattr(e, attribute) is not None]
    if not carrying:
        return None
    return getattr(max(carrying, key=lambda e: (e.recorded_at, e.key)), attribute)


def _pain_relief(protocol: dict[str, Any], relief: float | None) -> Criterion:
    threshold = protocol["min_pain_relief_percent"]
    status = _status(relief is not None, relief is not None and reaches(relief, threshold))
    return Criterion("pain_relief", True, status, rounded(relief, 1), threshold)


def _function(protocol, baseline: Baseline, latest_odi, trial_interference) -> Criterion:
    value: dict[str, float] = {}
    met = False
    if baseline.odi is not None and latest_odi is not None:
        value["odi_improvement"] = baseline.odi - latest_odi
        met |= reaches(value["odi_improvement"], protocol["min_odi_improvement"])
    if baseline.interference is not None and trial_interference is not None:
        value["interference_improvement"] = baseline.interference - trial_interference
        met |= reaches(value["interference_improvement"], protocol["min_interference_improvement"])
    threshold = {"odi": protocol["min_odi_improvement"], "interference": protocol["min_interference_improvement"]}
    return Criterion("function", protocol["require_function"], _status(bool(value), met), value or None, threshold)


def _analgesic_use(protocol, baseline: Baseline, trial_mme: float | None) -> Criterion:
    allowed = None if baseline.mme is None else baseline.mme * (1 + protocol["max_mme_increase_percent"] / 100)
    assessed = allowed is not None and trial_mme is not None
    status = _status(assessed, assessed and at_most(trial_mme, allowed))
    return Criterion(
        "analgesic_use", protocol["require_stable_analgesics"], status, rounded(trial_mme, 1),
        {"max_mme": rounded(allowed, 1), "max_increase_percent": protocol["max_mme_increase_percent"]},
    )


def _side_effects(protocol, any_valid: bool, max_sedation: int | None, respiratory_depression: bool) -> Criterion:
    limit = protocol["max_sedation_score"]
    acceptable = not respiratory_depression and (max_sedation is None or max_sedation <= limit)
    return Criterion(
        "side_effects", protocol["require_acceptable_side_effects"], _status(any_valid, acceptable),
        {"max_sedation_score": max_sedation, "respiratory_depression": respiratory_depression},
        {"max_sedation_score": limit},
    )


def _pgic(protocol, latest_pgic: int | None) -> Criterion:
    status = _status(latest_pgic is not None, latest_pgic is not None and latest_pgic <= protocol["max_pgic"])
    return Criterion("patient_global_impression", protocol["require_pgic"], status, latest_pgic, protocol["max_pgic"])


def _summary(bucket: Bucket, entries: list[Entry], window_end, counted, pain, mme, interference) -> BucketSummary:
    return BucketSummary(
        index=bucket.index, label=bucket.label, start=bucket.start, end=bucket.end,
        closed=bucket.end <= window_end, counted=counted, entries=len(entries),
        pain=pain.get(bucket.index), mme=rounded(mme.get(bucket.index), 1),
        interference=interference.get(bucket.index),
    )
