"""The block criteria in words and the block chart, as the report and the console show them."""

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from api.domain.evaluation import Baseline, Entry, TrialFacts, evaluate
from api.domain.protocol import effective_protocol
from api.domain.therapies import REGISTRY
from api.exports import TrialRecord
from api.exports.charts import block_chart
from api.exports.wording import (
    criterion_sentence,
    criterion_title,
    decision_words,
    next_step_words,
    outcome_words,
)

START = datetime(2026, 11, 10, 9, tzinfo=UTC)


def test_block_criteria_read_as_sentences_with_their_thresholds():
    peak = {"name": "peak_relief", "required": True, "status": "met", "value": 87.5, "threshold": 80}
    assert criterion_title(peak) == "Peak relief"
    assert criterion_sentence(peak) == ("The best relief after the block was 87.5 % of the pre-block pain "
                                        "(at least 80 % is asked). Required: met.")
    duration = {"name": "relief_duration", "required": True, "status": "not_met", "value": 1.0, "threshold": 2.0}
    assert criterion_title(duration) == "Duration of relief"
    assert criterion_sentence(duration) == (
        "Relief at or above the threshold lasted until 1 h after the block, without a dip below it (at least 2 h "
        "is asked, as long as the anaesthetic acts). Required: not met.")
    no_run = {**duration, "value": 0.0}
    assert "did not reach the threshold within the onset window" in criterion_sentence(no_run)
    nothing = {**duration, "value": None, "status": "not_assessed"}
    assert criterion_sentence(nothing).startswith("No diary timepoint after the block")


def test_outcomes_are_said_per_therapy():
    assert outcome_words("success", "medial_branch_block") == "positive block"
    assert outcome_words("failure", "sacroiliac_block") == "negative block"
    assert outcome_words("insufficient_data", "nerve_root_block") == "insufficient data"
    assert outcome_words("success", "pns") == "success" and outcome_words("failure") == "failure"
    assert next_step_words("rfa_candidate").startswith("candidate for radiofrequency ablation")


def test_decisions_are_said_per_therapy_and_a_block_speaks_of_the_block():
    assert decision_words("implant", "scs") == "Proceed to a permanent spinal cord stimulator implant"
    assert decision_words("repeat_trial", "intrathecal") == "Repeat the trial"
    assert decision_words("implant", "medial_branch_block") == "Proceed to ablation or injection"
    assert decision_words("repeat_trial", "sacroiliac_block") == "Repeat the block"
    assert all("implant" not in words.lower() for therapy in REGISTRY.values() if therapy.is_block
               for _, words in therapy.decisions + ((None, therapy.decision_question),))


def test_the_block_chart_draws_the_threshold_and_the_run_in_svg_and_png():
    facts = TrialFacts("medial_branch_block", START, START + timedelta(hours=8), "UTC", Baseline(8),
                       effective_protocol("medial_branch_block", {}, "lidocaine"), "lidocaine")
    entries = [Entry(START + timedelta(minutes=m), s) for m, s in ((15, 1), (30, 1), (60, 1), (90, 4), (240, 6))]
    result = evaluate(facts, entries, START + timedelta(hours=9))
    record = TrialRecord("Clinic", SimpleNamespace(start_at=START, end_at=START + timedelta(hours=8)), None, [], [],
                         {"protocol": result.protocol}, True, [], timepoints=result.timepoints)
    svg = block_chart(record, image_format="svg").decode()
    assert "80 % threshold" in svg and "response run (1.00 h)" in svg and "1 h asked" in svg
    assert block_chart(record).startswith(b"\x89PNG")
    empty = TrialRecord("Clinic", record.trial, None, [], [], {"protocol": result.protocol}, True, [])
    assert "response run" not in block_chart(empty, image_format="svg").decode()
