"""The bucket-based trial evaluation of docs/evaluation-notes.md (scs, pns, intrathecal): buckets, metrics, criteria
and outcome, as one pure function. The therapy registry (therapies.py) says which criteria a therapy judges."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from statistics import fmean
from typing import Any

from .buckets import Bucket, Calendar
from .facts import NOT_ASSESSED, NOT_MET, Baseline, BucketSummary, Criterion, Entry, Result, TrialFacts, status
from .mme import daily_mme
from .numbers import at_most, reaches, rounded
from .parameters import Parameter

# The trial therapies' parameters (docs/clinical-rules.md §2 "Protocol defaults"); the defaults are in therapies.py.
PARAMETERS: dict[str, Parameter] = {
    "bucket": Parameter(str, choices=("day", "hour")),
    "exclude_first_buckets": Parameter(int, 0, 1000),
    "min_pain_relief_percent": Parameter(float, 0, 100),
    "require_function": Parameter(bool),
    "min_odi_improvement": Parameter(float, 0, 100),
    "min_interference_improvement": Parameter(float, 0, 10),
    "require_stable_analgesics": Parameter(bool),
    "max_mme_increase_percent": Parameter(float, 0, 1000),
    "require_acceptable_side_effects": Parameter(bool),
    "max_sedation_score": Parameter(int, 1, 4),
    "require_pgic": Parameter(bool),
    "max_pgic": Parameter(int, 1, 7),
    "min_data_buckets": Parameter(int, 0, 10000),
    "min_compliance": Parameter(float, 0, 1),
}


@dataclass(frozen=True)
class Measured:
    """What the diary shows, before any threshold is applied."""

    valid: list[Entry]
    relief: float | None
    latest_odi: float | None
    trial_interference: float | None
    trial_mme: float | None  # None for hour buckets: MME is a daily measure
    max_sedation: int | None
    respiratory_depression: bool
    latest_pgic: int | None


def evaluate(trial: TrialFacts, entries: list[Entry], now: datetime, criteria: tuple[str, ...] = ()) -> Result:
    """Apply the trial's protocol to its valid entries as of `now` (docs/clinical-rules.md §2), judging `criteria` (by
    name, in report order; all of CRITERIA when empty)."""
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

    sedation_scores = [e.sedation_score for e in valid if e.sedation_score is not None]
    measured = Measured(
        valid=valid, relief=relief, latest_odi=_latest(valid, "odi"), trial_interference=trial_interference,
        trial_mme=trial_mme if counts_mme else None, max_sedation=max(sedation_scores) if sedation_scores else None,
        respiratory_depression=any("respiratory_depression" in e.symptoms for e in valid),
        latest_pgic=_latest(valid, "pgic"),
    )
    judged = [CRITERIA[name](protocol, baseline, measured) for name in (criteria or tuple(CRITERIA))]
    required = [c for c in judged if c.required]
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
        "latest_odi": measured.latest_odi,
        "trial_interference": trial_interference,
        "latest_pgic": measured.latest_pgic,
        "max_sedation_score": measured.max_sedation,
    }
    summaries = [
        _summary(b, by_bucket.get(b.index, []), window_end, b in counted, pain_by_bucket,
                 mme_by_bucket, interference_by_bucket)
        for b in evaluable
    ]
    return Result(now, final, outcome, dict(protocol), metrics, judged, summaries)


def _latest(entries: list[Entry], attribute: str) -> Any:
    carrying = [e for e in entries if getattr(e, attribute) is not None]
    if not carrying:
        return None
    return getattr(max(carrying, key=lambda e: (e.recorded_at, e.key)), attribute)


def _pain_relief(protocol: dict[str, Any], baseline: Baseline, measured: Measured) -> Criterion:
    relief = measured.relief
    threshold = protocol["min_pain_relief_percent"]
    state = status(relief is not None, relief is not None and reaches(relief, threshold))
    return Criterion("pain_relief", True, state, rounded(relief, 1), threshold)


def _function(protocol, baseline: Baseline, measured: Measured) -> Criterion:
    latest_odi, trial_interference = measured.latest_odi, measured.trial_interference
    value: dict[str, float] = {}
    met = False
    if baseline.odi is not None and latest_odi is not None:
        value["odi_improvement"] = baseline.odi - latest_odi
        met |= reaches(value["odi_improvement"], protocol["min_odi_improvement"])
    if baseline.interference is not None and trial_interference is not None:
        value["interference_improvement"] = baseline.interference - trial_interference
        met |= reaches(value["interference_improvement"], protocol["min_interference_improvement"])
    threshold = {"odi": protocol["min_odi_improvement"], "interference": protocol["min_interference_improvement"]}
    return Criterion("function", protocol["require_function"], status(bool(value), met), value or None, threshold)


def _analgesic_use(protocol, baseline: Baseline, measured: Measured) -> Criterion:
    trial_mme = measured.trial_mme
    allowed = None if baseline.mme is None else baseline.mme * (1 + protocol["max_mme_increase_percent"] / 100)
    assessed = allowed is not None and trial_mme is not None
    state = status(assessed, assessed and at_most(trial_mme, allowed))
    return Criterion(
        "analgesic_use", protocol["require_stable_analgesics"], state, rounded(trial_mme, 1),
        {"max_mme": rounded(allowed, 1), "max_increase_percent": protocol["max_mme_increase_percent"]},
    )


def _side_effects(protocol, baseline: Baseline, measured: Measured) -> Criterion:
    any_valid, max_sedation = bool(measured.valid), measured.max_sedation
    respiratory_depression = measured.respiratory_depression
    limit = protocol["max_sedation_score"]
    acceptable = not respiratory_depression and (max_sedation is None or max_sedation <= limit)
    return Criterion(
        "side_effects", protocol["require_acceptable_side_effects"], status(any_valid, acceptable),
        {"max_sedation_score": max_sedation, "respiratory_depression": respiratory_depression},
        {"max_sedation_score": limit},
    )


def _pgic(protocol, baseline: Baseline, measured: Measured) -> Criterion:
    latest_pgic = measured.latest_pgic
    state = status(latest_pgic is not None, latest_pgic is not None and latest_pgic <= protocol["max_pgic"])
    return Criterion("patient_global_impression", protocol["require_pgic"], state, latest_pgic, protocol["max_pgic"])


def _summary(bucket: Bucket, entries: list[Entry], window_end, counted, pain, mme, interference) -> BucketSummary:
    return BucketSummary(
        index=bucket.index, label=bucket.label, start=bucket.start, end=bucket.end,
        closed=bucket.end <= window_end, counted=counted, entries=len(entries),
        pain=pain.get(bucket.index), mme=rounded(mme.get(bucket.index), 1),
        interference=interference.get(bucket.index),
    )


# Every criterion of the bucket rules, in report order: the registry names the ones a therapy judges.
CRITERIA = {
    "pain_relief": _pain_relief,
    "function": _function,
    "analgesic_use": _analgesic_use,
    "side_effects": _side_effects,
    "patient_global_impression": _pgic,
}
