"""Timely entries in the domain (docs/clinical-rules.md §2 "Timely entries", issue 22)."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from api.domain.evaluation import evaluate
from api.domain.therapies import REGISTRY
from api.domain.timeliness import is_late, late_entry_ids, timeliness, timely_sentence

from .test_evaluation_rules import WORKED, at, scs

DAY, HOURS_2 = timedelta(hours=24), timedelta(hours=2)
T = datetime(2026, 3, 10, 12, tzinfo=UTC)


def test_late_is_received_more_than_the_therapys_threshold_after_the_time_described():
    assert not is_late(T, T + DAY, DAY) and is_late(T, T + DAY + timedelta(seconds=1), DAY)
    assert not is_late(T, T + HOURS_2, HOURS_2) and is_late(T, T + timedelta(minutes=121), HOURS_2)
    assert not is_late(T, None, DAY)
    assert {name: row.late_after for name, row in REGISTRY.items()} == {
        "scs": DAY, "pns": DAY, "intrathecal": HOURS_2, "medial_branch_block": HOURS_2,
        "sacroiliac_block": HOURS_2, "nerve_root_block": HOURS_2}


def test_the_share_sent_in_time_to_one_decimal():
    times = [(T, T + timedelta(hours=h)) for h in (1, 2, 30)]
    assert timeliness(times, DAY) == {"entries_late": 1, "timely_percent": 66.7}
    assert timeliness([], DAY) == {"entries_late": 0, "timely_percent": None}
    assert timeliness([(T, T + timedelta(hours=3))] * 8, HOURS_2) == {"entries_late": 8, "timely_percent": 0.0}
    assert late_entry_ids([(1, T, T), (2, T, T + timedelta(days=2))], DAY) == {2}
    assert timely_sentence(43, 2, DAY) == "41 of 43 entries were sent within 24 hours of the time they describe."
    assert timely_sentence(1, 0, HOURS_2) == "1 of 1 entry was sent within 2 hours of the time it describes."


@given(st.lists(st.floats(0, 24 * 14), min_size=len(WORKED), max_size=len(WORKED)))
def test_late_entries_never_change_the_outcome_or_the_criteria(delays):
    moment = at("2026-11-09T10:00-05:00")
    on_time = evaluate(scs(), WORKED, moment)
    received = [replace(e, received_at=e.recorded_at + timedelta(hours=d)) for e, d in zip(WORKED, delays, strict=True)]
    judged = evaluate(scs(), received, moment)
    assert (judged.outcome, judged.criteria, judged.buckets) == (on_time.outcome, on_time.criteria, on_time.buckets)
    late = sum(d > 24 for d in delays)
    assert judged.metrics == {**on_time.metrics, "entries_late": late,
                              "timely_percent": judged.metrics["timely_percent"]}
    assert judged.metrics["entries_late"] == late
