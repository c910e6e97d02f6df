"""The diagnostic block evaluation of docs/blocks.md: timepoints, peak relief, the response run, its duration
and onset, the two criteria and the outcome, as pure functions. Also the block's diary schedule, its
frequency count and the pathway's next step, which read only plain values too."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from .facts import NOT_ASSESSED, NOT_MET, Criterion, Entry, Result, TrialFacts, status
from .numbers import reaches, rounded
from .parameters import Parameter

BLOCKS = ("medial_branch_block", "sacroiliac_block", "nerve_root_block")
AGENTS = ("lidocaine", "bupivacaine", "ropivacaine")
REGIONS = ("cervical", "thoracic", "lumbar", "sacral")
SIDES = ("left", "right", "bilateral")
# How long the relief must last: as long as the anaesthetic acts (docs/blocks.md "Block protocol defaults").
RELIEF_HOURS_BY_AGENT = {"lidocaine": 1.0, "bupivacaine": 2.0, "ropivacaine": 2.0}
DEFAULT_DIARY_HOURS = 8
FIRST_HOUR_MINUTES = (15, 30, 45, 60)

PARAMETERS: dict[str, Parameter] = {
    "bucket": Parameter(str, choices=("entry",), description="Every entry is its own timepoint."),
    "min_relief_percent": Parameter(float, 0, 100),
    "min_relief_hours": Parameter(float, 0, 48, description="Default by agent: lidocaine 1.0, bupivacaine and "
                                                           "ropivacaine 2.0."),
    "onset_window_minutes": Parameter(int, 0, 1440, description="Relief must begin within this long after the "
                                                               "block."),
    "min_timepoints": Parameter(int, 0, 1000),
    "relief_measure": Parameter(str, choices=("score", "reported"),
                                description="score: pain.score against baseline.pain; reported: pain.relief_percent."),
}


@dataclass(frozen=True)
class Timepoint:
    recorded_at: datetime
    minutes: float  # after the block
    relief: float  # percent, unrounded
    in_run: bool


@dataclass(frozen=True)
class Run:
    first: int  # indexes into the timepoints
    last: int


def timepoints(trial: TrialFacts, entries: Sequence[Entry], window_end: datetime) -> list[tuple[datetime, float]]:
    """(recorded_at, relief %) of each valid entry in time order; ties: the earlier stored first."""
    reported = trial.protocol["relief_measure"] == "reported"
    valid = [e for e in entries if trial.start_at <= e.recorded_at <= window_end
             and (not reported or e.relief_percent is not None)]
    valid.sort(key=lambda e: (e.recorded_at, e.stored))
    baseline = trial.baseline.pain
    return [(e.recorded_at, e.relief_percent if reported else (baseline - e.pain_score) / baseline * 100)
            for e in valid]


def peak_relief_percent(points: Sequence[tuple[datetime, float]]) -> float | None:
    return max((relief for _, relief in points), default=None)


def response_run(points: Sequence[tuple[datetime, float]], *, start_at: datetime, min_relief_percent: float,
                 onset_window_minutes: float) -> Run | None:
    """The first timepoint within the onset window whose relief reaches the threshold, through the following
    ones while each reaches it; None when no timepoint starts a run."""
    window = timedelta(minutes=onset_window_minutes)
    first = next((i for i, (at, relief) in enumerate(points)
                  if at - start_at <= window and reaches(relief, min_relief_percent)), None)
    if first is None:
        return None
    last = first
    while last + 1 < len(points) and reaches(points[last + 1][1], min_relief_percent):
        last += 1
    return Run(first, last)


def relief_duration_hours(points: Sequence[tuple[datetime, float]], run: Run | None, start_at: datetime) -> float:
    """From the block to the run's last timepoint; 0 without a run."""
    if run is None:
        return 0.0
    return (points[run.last][0] - start_at).total_seconds() / 3600


def onset_minutes(points: Sequence[tuple[datetime, float]], run: Run | None, start_at: datetime) -> float | None:
    """From the block to the run's first timepoint; None without a run."""
    if run is None:
        return None
    return (points[run.first][0] - start_at).total_seconds() / 60


def peak_relief(protocol: dict[str, Any], peak: float | None) -> Criterion:
    threshold = protocol["min_relief_percent"]
    state = status(peak is not None, peak is not None and reaches(peak, threshold))
    return Criterion("peak_relief", True, state, rounded(peak, 1), threshold)


def relief_duration(protocol: dict[str, Any], hours: float, assessed: bool) -> Criterion:
    threshold = protocol["min_relief_hours"]
    state = status(assessed, assessed and reaches(hours, threshold))
    return Criterion("relief_duration", True, state, rounded(hours, 2) if assessed else None, threshold)


def outcome(count: int, criteria: Sequence[Criterion], min_timepoints: int) -> str:
    if count < min_timepoints or any(c.status == NOT_ASSESSED for c in criteria):
        return "insufficient_data"
    if any(c.status == NOT_MET for c in criteria):
        return "failure"
    return "success"


def evaluate(trial: TrialFacts, entries: list[Entry], now: datetime, criteria: tuple[str, ...] = ()) -> Result:
    """The block's evaluation as of `now`: interim before `end_at`, final at or after it (docs/clinical-rules.md §2)."""
    protocol = trial.protocol
    window_end = min(trial.end_at, now)
    points = timepoints(trial, entries, window_end)
    peak = peak_relief_percent(points)
    run = response_run(points, start_at=trial.start_at, min_relief_percent=protocol["min_relief_percent"],
                       onset_window_minutes=protocol["onset_window_minutes"])
    hours = relief_duration_hours(points, run, trial.start_at)
    onset = onset_minutes(points, run, trial.start_at)
    judged = {"peak_relief": peak_relief(protocol, peak), "relief_duration": relief_duration(protocol, hours,
                                                                                             bool(points))}
    chosen = [judged[name] for name in (criteria or tuple(judged))]
    metrics = {
        "baseline_pain": float(trial.baseline.pain),
        "relief_measure": protocol["relief_measure"],
        "timepoints": len(points),
        "peak_relief_percent": rounded(peak, 1),
        "relief_duration_hours": rounded(hours, 2),
        "onset_minutes": rounded(onset, 1),
        "run_start_at": None if run is None else points[run.first][0].isoformat(),
        "run_end_at": None if run is None else points[run.last][0].isoformat(),
        # The worklist's and notifications' common figure: for a block, its peak relief.
        "pain_relief_percent": rounded(peak, 1),
    }
    series = [Timepoint(at, (at - trial.start_at).total_seconds() / 60, relief,
                        run is not None and run.first <= i <= run.last)
              for i, (at, relief) in enumerate(points)]
    return Result(now, now >= trial.end_at, outcome(len(points), chosen, protocol["min_timepoints"]),
                  dict(protocol), metrics, chosen, [], series)


# --- the diary schedule ------------------------------------------------------------------------------------

def default_end(start_at: datetime) -> datetime:
    return start_at + timedelta(hours=DEFAULT_DIARY_HOURS)


def schedule(start_at: datetime, end_at: datetime) -> list[datetime]:
    """+15, +30, +45 and +60 minutes, then every hour, up to and including `end_at`."""
    times = [start_at + timedelta(minutes=m) for m in FIRST_HOUR_MINUTES]
    hour = 2
    while (at := start_at + timedelta(hours=hour)) <= end_at:
        times.append(at)
        hour += 1
    return [t for t in times if t <= end_at]


def expected_so_far(start_at: datetime, end_at: datetime, moment: datetime) -> int:
    """How many scheduled timepoints are due by `moment`."""
    return sum(1 for t in schedule(start_at, end_at) if t <= moment)


# --- what the blocks say together (docs/blocks.md "The pathway") -------------------------------------------------

NEXT_STEPS = ("rfa_candidate", "confirmatory_block_due", "therapeutic_injection_candidate", "not_indicated",
              "pending")
FREQUENCY_LIMITS = {"medial_branch_block": 4, "sacroiliac_block": 2}  # nerve root blocks: no limit here
FREQUENCY_WINDOW = timedelta(days=365)


@dataclass(frozen=True)
class Block:
    """A block trial as the pathway reads it."""

    id: int
    therapy: str
    region: str
    side: str
    levels: tuple[str, ...]
    start_at: datetime
    end_at: datetime
    outcome: str | None  # the latest final outcome, None when there is none yet


def count_in_year(block: Block, others: Sequence[Block]) -> int:
    """Blocks of the same therapy and region (any side) started in the 365 days up to `block`'s start, it
    included. `others` are the patient's blocks that count (not cancelled)."""
    return sum(1 for b in others if b.therapy == block.therapy and b.region == block.region
               and block.start_at - FREQUENCY_WINDOW < b.start_at <= block.start_at)


def frequency_exceeded(block: Block, others: Sequence[Block]) -> bool:
    limit = FREQUENCY_LIMITS.get(block.therapy)
    return limit is not None and count_in_year(block, others) > limit


def next_step(blocks: Sequence[Block]) -> str:
    """The next step for one target from its blocks in time order (docs/blocks.md's table, first row that applies)."""
    if not blocks:
        return "pending"
    ordered = sorted(blocks, key=lambda b: (b.start_at, b.id))
    medial = [b for b in ordered if b.therapy == "medial_branch_block"]
    positive = [b for b in medial if b.outcome == "success"]
    if any(set(a.levels) == set(b.levels) and b.start_at > a.end_at for a in positive for b in positive):
        return "rfa_candidate"
    if medial and medial[-1].outcome == "success":
        # Also when an earlier positive block at these levels had not ended when this one started (docs/blocks.md
        # is silent): such a pair does not count, so a separate confirmation is still due.
        return "confirmatory_block_due"
    sacroiliac = [b for b in ordered if b.therapy == "sacroiliac_block"]
    if sacroiliac and sacroiliac[-1].outcome == "success":
        return "therapeutic_injection_candidate"
    latest = ordered[-1]
    if latest.outcome == "failure":
        return "not_indicated"
    if latest.outcome in (None, "insufficient_data"):
        return "pending"
    # Left: a positive nerve root block (docs/blocks.md is silent): it points to a therapeutic injection at that root.
    return "therapeutic_injection_candidate"
