"""docs/blocks.md, rule by rule, on the pure domain functions (and the registry's rows for the new therapies)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from api.domain import blocks
from api.domain.blocks import Block, next_step, schedule
from api.domain.evaluation import Baseline, Entry, TrialFacts, evaluate
from api.domain.protocol import DEFAULTS, effective_protocol, override_problems
from api.domain.safety import findings
from api.domain.therapies import REGISTRY

NINE = datetime.fromisoformat("2026-11-10T09:00+00:00")


def at(minutes: float) -> datetime:
    return NINE + timedelta(minutes=minutes)


def block(agent="lidocaine", therapy="medial_branch_block", baseline=8.0, hours=8, **overrides) -> TrialFacts:
    return TrialFacts(therapy, NINE, NINE + timedelta(hours=hours), "UTC", Baseline(baseline),
                      effective_protocol(therapy, overrides, agent), agent)


def e(minutes: float, score: float, stored: int = 0, relief: float | None = None) -> Entry:
    return Entry(recorded_at=at(minutes), pain_score=score, key=str(minutes), stored=stored, relief_percent=relief)


EXAMPLE = [e(15, 1), e(30, 1), e(45, 0), e(60, 1), e(90, 2), e(120, 1)]
AFTER = at(8 * 60)


def statuses(result) -> dict[str, str]:
    return {c.name: c.status for c in result.criteria}


def test_the_example_lidocaine_block_is_a_success():
    result = evaluate(block("lidocaine"), EXAMPLE, AFTER)
    assert result.final is True
    assert result.metrics["timepoints"] == 6
    assert result.metrics["peak_relief_percent"] == 100.0
    assert result.metrics["onset_minutes"] == 15
    assert result.metrics["relief_duration_hours"] == 1.0  # the run ends at 10:00: 10:30 is 75 %
    assert result.metrics["run_start_at"] == at(15).isoformat() and result.metrics["run_end_at"] == at(60).isoformat()
    assert statuses(result) == {"peak_relief": "met", "relief_duration": "met"}
    assert [c.required for c in result.criteria] == [True, True]
    assert result.outcome == "success"
    assert [t.in_run for t in result.timepoints] == [True, True, True, True, False, False]


def test_the_same_diary_after_bupivacaine_is_a_failure():
    result = evaluate(block("bupivacaine"), EXAMPLE, AFTER)
    assert result.protocol["min_relief_hours"] == 2.0
    assert statuses(result) == {"peak_relief": "met", "relief_duration": "not_met"}
    assert result.outcome == "failure"


def test_defaults_per_therapy_and_agent():
    assert effective_protocol("medial_branch_block", {}, "lidocaine")["min_relief_percent"] == 80
    assert effective_protocol("sacroiliac_block", {}, "ropivacaine") == {
        "bucket": "entry", "min_relief_percent": 75, "min_relief_hours": 2.0, "onset_window_minutes": 60,
        "min_timepoints": 4, "relief_measure": "score"}
    assert effective_protocol("nerve_root_block", {}, "bupivacaine")["min_relief_percent"] == 50
    assert effective_protocol("nerve_root_block", {"min_relief_hours": 3}, "lidocaine")["min_relief_hours"] == 3
    assert DEFAULTS["pns"] == DEFAULTS["scs"]
    pns, scs = REGISTRY["pns"], REGISTRY["scs"]
    assert (pns.parameters, pns.evaluate, pns.criteria, pns.safety_rules) == (
        scs.parameters, scs.evaluate, scs.criteria, scs.safety_rules)


def test_overrides_are_checked_against_the_therapys_own_parameters():
    assert override_problems({"min_relief_percent": 70, "relief_measure": "reported"}, "sacroiliac_block") == {}
    problems = override_problems({"min_pain_relief_percent": 30, "relief_measure": "guess", "bucket": "day",
                                  "min_relief_hours": -1, "min_timepoints": 2.5}, "medial_branch_block")
    assert set(problems) == {"min_pain_relief_percent", "relief_measure", "bucket", "min_relief_hours",
                             "min_timepoints"}
    assert set(override_problems({"min_relief_percent": 80}, "pns")) == {"min_relief_percent"}


def test_exactly_80_percent_and_exactly_one_hour_are_met():
    # baseline 5, score 1 is exactly 80 %; the run's last timepoint at exactly +60 min is exactly 1.0 h.
    result = evaluate(block(baseline=5), [e(15, 1), e(30, 1), e(45, 1), e(60, 1), e(75, 2)], AFTER)
    assert result.metrics["peak_relief_percent"] == 80.0
    assert result.metrics["relief_duration_hours"] == 1.0
    assert result.outcome == "success"


def test_just_below_the_thresholds_is_not_met_but_within_the_tolerance_is():
    below = evaluate(block(min_relief_percent=80.0001, baseline=5), [e(15, 1), e(30, 1), e(45, 1), e(60, 1)], AFTER)
    assert statuses(below)["peak_relief"] == "not_met" and below.outcome == "failure"
    short = evaluate(block(), [e(15, 1), e(30, 1), e(45, 1), e(59.99, 1)], AFTER)
    assert short.metrics["relief_duration_hours"] == 1.0  # rounded for the report ...
    assert statuses(short)["relief_duration"] == "not_met"  # ... compared unrounded
    tolerated = evaluate(block(min_relief_percent=80 + 1e-10, baseline=5), [e(15, 1), e(30, 1), e(45, 1), e(60, 1)],
                         AFTER)
    assert statuses(tolerated)["peak_relief"] == "met"


def test_onset_at_exactly_the_window_starts_a_run_and_a_second_later_does_not():
    late = [e(10, 7), e(30, 6), e(60, 1), e(120, 1)]
    result = evaluate(block(), late, AFTER)
    assert result.metrics["onset_minutes"] == 60 and result.metrics["relief_duration_hours"] == 2.0
    assert result.outcome == "success"
    too_late = evaluate(block(), [e(10, 7), e(30, 6), e(60 + 1 / 60, 1), e(120, 1)], AFTER)
    assert too_late.metrics["onset_minutes"] is None and too_late.metrics["relief_duration_hours"] == 0
    assert too_late.metrics["peak_relief_percent"] == 87.5
    assert statuses(too_late) == {"peak_relief": "met", "relief_duration": "not_met"}
    assert too_late.outcome == "failure"


def test_a_dip_ends_the_run_even_if_relief_returns():
    result = evaluate(block(), [e(15, 1), e(30, 4), e(45, 1), e(60, 1), e(180, 0)], AFTER)
    assert result.metrics["relief_duration_hours"] == 0.25
    assert result.metrics["run_end_at"] == at(15).isoformat()
    assert result.outcome == "failure"


def test_the_run_starts_at_the_first_reaching_timepoint_within_the_window_not_the_first_timepoint():
    result = evaluate(block(), [e(15, 5), e(30, 1), e(90, 1), e(150, 1)], AFTER)
    assert result.metrics["onset_minutes"] == 30 and result.metrics["relief_duration_hours"] == 2.5


def test_reported_relief_uses_the_patients_percent_and_skips_entries_without_it():
    entries = [e(15, 7, relief=90), e(30, 7), e(45, 7, relief=85), e(60, 7, relief=80), e(70, 0, relief=70),
               e(80, 0)]
    result = evaluate(block(relief_measure="reported"), entries, AFTER)
    assert result.metrics["timepoints"] == 4
    assert result.metrics["peak_relief_percent"] == 90
    assert result.metrics["relief_duration_hours"] == 1.0
    assert result.outcome == "success"
    scored = evaluate(block(), entries, AFTER)  # by score, the same entries give 12.5 % until 70 min
    assert scored.metrics["timepoints"] == 6 and scored.metrics["onset_minutes"] is None


def test_overrides_change_the_outcome():
    assert evaluate(block(min_relief_percent=70), EXAMPLE, AFTER).metrics["relief_duration_hours"] == 2.0
    assert evaluate(block("bupivacaine", min_relief_percent=70), EXAMPLE, AFTER).outcome == "success"
    assert evaluate(block(min_timepoints=7), EXAMPLE, AFTER).outcome == "insufficient_data"
    assert evaluate(block(onset_window_minutes=10), EXAMPLE, AFTER).outcome == "failure"
    assert evaluate(block(min_relief_hours=1.01), EXAMPLE, AFTER).outcome == "failure"


def test_without_timepoints_nothing_is_assessed_and_too_few_is_insufficient():
    empty = evaluate(block(), [], AFTER)
    assert statuses(empty) == {"peak_relief": "not_assessed", "relief_duration": "not_assessed"}
    assert empty.metrics["peak_relief_percent"] is None and empty.metrics["relief_duration_hours"] == 0
    assert empty.outcome == "insufficient_data"
    few = evaluate(block(), EXAMPLE[:3], AFTER)
    assert statuses(few) == {"peak_relief": "met", "relief_duration": "not_met"}
    assert few.outcome == "insufficient_data"  # 3 timepoints < 4


def test_window_and_interim_rules():
    entries = [e(-5, 0), *EXAMPLE, e(8 * 60 + 1, 0)]  # before the block and after end_at: not timepoints
    final = evaluate(block(), entries, AFTER + timedelta(hours=1))
    assert final.metrics["timepoints"] == 6 and final.final is True
    interim = evaluate(block(), entries, at(50))
    assert interim.final is False and interim.metrics["timepoints"] == 3
    assert interim.outcome == "insufficient_data"
    at_end = evaluate(block(hours=1), EXAMPLE, at(60))
    assert at_end.final is True and at_end.metrics["timepoints"] == 4 and at_end.outcome == "success"


def test_ties_take_the_earlier_stored_first():
    first_low = [e(15, 1), e(30, 1), e(45, 6, stored=1), e(45, 1, stored=2), e(60, 1)]
    assert evaluate(block(), first_low, AFTER).metrics["relief_duration_hours"] == 0.5
    first_high = [e(15, 1), e(30, 1), e(45, 6, stored=2), e(45, 1, stored=1), e(60, 1)]
    assert evaluate(block(), first_high, AFTER).metrics["relief_duration_hours"] == 0.75


def test_rounding_relief_one_place_hours_two():
    result = evaluate(block(baseline=7), [e(15, 1), e(30, 1), e(45, 1), e(61, 1)], AFTER)
    assert result.metrics["peak_relief_percent"] == 85.7
    assert result.metrics["relief_duration_hours"] == 1.02


def test_the_schedule_and_its_default_end():
    end = blocks.default_end(NINE)
    assert end == NINE + timedelta(hours=8)
    times = schedule(NINE, end)
    assert [(t - NINE).total_seconds() / 60 for t in times] == [15, 30, 45, 60, 120, 180, 240, 300, 360, 420, 480]
    assert schedule(NINE, at(50)) == [at(15), at(30), at(45)]
    assert schedule(NINE, at(150)) == [at(15), at(30), at(45), at(60), at(120)]
    assert blocks.expected_so_far(NINE, end, at(59)) == 3 and blocks.expected_so_far(NINE, end, at(60)) == 4


def test_post_block_red_flags_keep_their_rules_and_a_lead_problem_means_nothing():
    def fired(therapy, **entry):
        return {f.rule for f in findings({"pain": {"score": 3}, **entry}, baseline_pain=6, therapy=therapy)}

    for symptom, rule in (("new_weakness", "neuro_deficit"), ("new_numbness", "neuro_deficit"),
                          ("bladder_bowel_change", "neuro_deficit"), ("fever", "infection"),
                          ("positional_headache", "csf_leak")):
        assert fired("medial_branch_block", symptoms=[symptom]) == {rule}
    assert fired("sacroiliac_block", symptoms=["lead_dislodged", "dressing_off"]) == set()
    assert fired("pns", symptoms=["lead_dislodged"]) == {"lead_problem"}
    assert fired("nerve_root_block", symptoms=["nausea"]) == set()


# --- the pathway -----------------------------------------------------------------------------------------

DAY = timedelta(days=1)


def b(n: int, outcome: str | None, therapy="medial_branch_block", levels=("L4-L5",), day=0, hours=8,
      region="lumbar", side="left") -> Block:
    start = NINE + day * DAY
    return Block(n, therapy, region, side, levels, start, start + timedelta(hours=hours), outcome)


@pytest.mark.parametrize(("blocks_", "expected"), [
    ([], "pending"),
    ([b(1, "success"), b(2, "success", day=14)], "rfa_candidate"),
    ([b(1, "success"), b(2, "success", levels=("L5-S1",), day=14)], "confirmatory_block_due"),
    ([b(1, "success", levels=("L4-L5", "L5-S1")), b(2, "success", levels=("L5-S1", "L4-L5"), day=14)],
     "rfa_candidate"),
    ([b(1, "success")], "confirmatory_block_due"),
    ([b(1, "failure"), b(2, "success", day=14)], "confirmatory_block_due"),
    ([b(1, "success"), b(2, "failure", day=14)], "not_indicated"),
    ([b(1, "success"), b(2, None, day=14)], "pending"),
    ([b(1, "success"), b(2, "insufficient_data", day=14)], "pending"),
    ([b(1, "success"), b(2, "success", day=14), b(3, "failure", day=30)], "rfa_candidate"),
    # the second started before the first ended: not a confirmation
    ([b(1, "success", hours=8), b(2, "success", hours=8, day=0.25)], "confirmatory_block_due"),
    ([b(1, "success", hours=8), b(2, "success", day=8 / 24)], "confirmatory_block_due"),
    ([b(1, "success", hours=8), b(2, "success", day=8 / 24 + 1 / 86400)], "rfa_candidate"),
    ([b(1, "success", therapy="sacroiliac_block", levels=())], "therapeutic_injection_candidate"),
    ([b(1, "failure", therapy="sacroiliac_block", levels=())], "not_indicated"),
    ([b(1, None, therapy="sacroiliac_block", levels=())], "pending"),
    ([b(1, "failure", therapy="nerve_root_block")], "not_indicated"),
])
def test_next_step_follows_the_table(blocks_, expected):
    assert next_step(blocks_) == expected


def test_frequency_counts_a_year_of_the_same_therapy_and_region_on_any_side():
    history = [b(i, "success", day=i * 60, side="left" if i % 2 else "right") for i in range(5)]  # 0..240 days
    assert [blocks.count_in_year(x, history) for x in history] == [1, 2, 3, 4, 5]
    assert [blocks.frequency_exceeded(x, history) for x in history] == [False] * 4 + [True]
    other = [b(9, "success", region="cervical", day=241), b(10, "success", therapy="nerve_root_block", day=242)]
    assert blocks.count_in_year(history[4], history + other) == 5
    year_later = b(11, None, day=365)  # day 0 is exactly 365 days before: outside the window
    assert blocks.count_in_year(year_later, [*history, year_later]) == 5
    sacro = [b(i, None, therapy="sacroiliac_block", levels=(), day=i) for i in range(3)]
    assert [blocks.frequency_exceeded(x, sacro) for x in sacro] == [False, False, True]
    roots = [b(i, None, therapy="nerve_root_block", day=i) for i in range(8)]
    assert not any(blocks.frequency_exceeded(x, roots) for x in roots)


# --- properties ------------------------------------------------------------------------------------------

reliefs = st.lists(st.tuples(st.integers(0, 8 * 60), st.integers(0, 10)), min_size=0, max_size=25)


def _entries(pairs) -> list[Entry]:
    return [e(minutes, score, stored=i) for i, (minutes, score) in enumerate(pairs)]


@settings(max_examples=150, deadline=None)
@given(reliefs, st.integers(0, 10), st.integers(0, 60))
def test_a_timepoint_after_the_dip_that_ended_the_run_never_lengthens_it(pairs, score, later):
    facts = block()
    before = evaluate(facts, _entries(pairs), AFTER)
    points = before.timepoints
    ended = [i for i, t in enumerate(points) if not t.in_run and i > 0 and points[i - 1].in_run]
    if not ended:
        return
    dip = points[ended[0]].minutes
    added = [*_entries(pairs), e(min(dip + 1 + later, 8 * 60), score, stored=999)]
    after = evaluate(facts, added, AFTER)
    assert after.metrics["relief_duration_hours"] == before.metrics["relief_duration_hours"]


@settings(max_examples=150, deadline=None)
@given(reliefs, st.floats(0, 8), st.floats(0, 8), st.integers(0, 8), st.integers(0, 8))
def test_raising_a_threshold_never_turns_a_failure_into_a_success(pairs, hours_a, hours_b, count_a, count_b):
    entries = _entries(pairs)
    for low, high in ((dict(min_relief_hours=min(hours_a, hours_b)), dict(min_relief_hours=max(hours_a, hours_b))),
                      (dict(min_timepoints=min(count_a, count_b)), dict(min_timepoints=max(count_a, count_b)))):
        if evaluate(block(**low), entries, AFTER).outcome != "success":
            assert evaluate(block(**high), entries, AFTER).outcome != "success"


@settings(max_examples=150, deadline=None)
@given(reliefs, st.floats(0, 100), st.floats(0, 100))
def test_raising_the_relief_threshold_never_helps_the_peak(pairs, first, second):
    low, high = sorted((first, second))
    entries = _entries(pairs)
    lower = evaluate(block(min_relief_percent=low), entries, AFTER)
    higher = evaluate(block(min_relief_percent=high), entries, AFTER)
    if statuses(lower)["peak_relief"] == "not_met":
        assert statuses(higher)["peak_relief"] == "not_met"


def test_a_higher_relief_threshold_can_start_the_run_later_and_so_lengthen_it():
    """The rule as written: the run starts at the first timepoint within the window that reaches the threshold.
    At 50 % the early partial relief starts a run that the dip at 30 min ends; at 80 % the run starts at 45 min
    and lasts. So raising `min_relief_percent` alone can turn a failure into a success; the properties above hold
    for the duration and count thresholds."""
    entries = [e(15, 3), e(30, 7), e(45, 1), e(120, 1)]
    assert evaluate(block(min_relief_percent=50), entries, AFTER).outcome == "failure"
    assert evaluate(block(min_relief_percent=80), entries, AFTER).outcome == "success"


@settings(max_examples=150, deadline=None)
@given(reliefs)
def test_duration_peak_and_onset_are_bounded_by_the_diary(pairs):
    result = evaluate(block(), _entries(pairs), AFTER)
    points = result.timepoints
    assert result.metrics["timepoints"] == len(points) == len(pairs)
    if points:
        assert result.metrics["peak_relief_percent"] == pytest.approx(max(t.relief for t in points), abs=0.05)
        assert result.metrics["relief_duration_hours"] <= points[-1].minutes / 60 + 0.005
    if result.metrics["onset_minutes"] is not None:
        assert result.metrics["onset_minutes"] <= 60
        run = [t for t in points if t.in_run]
        assert all(t.relief >= 80 - 1e-9 for t in run)
    else:
        assert result.metrics["relief_duration_hours"] == 0


@settings(max_examples=100, deadline=None)
@given(reliefs, st.floats(0.5, 4), st.floats(0.5, 4))
def test_a_longer_required_duration_never_turns_a_failure_into_a_success(pairs, first, second):
    short, long_ = sorted((first, second))
    entries = _entries(pairs)
    if evaluate(block(min_relief_hours=short), entries, AFTER).outcome == "failure":
        assert evaluate(block(min_relief_hours=long_), entries, AFTER).outcome != "success"
