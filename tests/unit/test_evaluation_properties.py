"""Invariants of the evaluation that hold for any diary (hypothesis)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from api.domain.evaluation import Baseline, Entry, TrialFacts, evaluate
from api.domain.mme import Medication
from api.domain.protocol import effective_protocol

START = datetime.fromisoformat("2026-03-05T15:00-05:00")  # spans the DST change of 2026-03-08
END = START + timedelta(days=8)
TRIAL = TrialFacts("scs", START, END, "America/New_York", Baseline(7.5, 20, 45, 6),
                   effective_protocol("scs", {"min_data_buckets": 1}))

medications = st.lists(st.sampled_from([
    Medication("oxycodone", 5, "mg", "oral"), Medication("fentanyl", 12, "mcg/h", "transdermal"),
    Medication("gabapentin", 300, "mg"), Medication("buprenorphine", 5, "mcg/h", "transdermal"),
]), max_size=2).map(tuple)

entries = st.lists(st.builds(
    lambda minutes, score, odi, interference, meds, n: Entry(
        START + timedelta(minutes=minutes), score, key=f"k{n}", odi=odi, interference=interference, medications=meds),
    st.integers(0, 8 * 24 * 60), st.integers(0, 10), st.none() | st.integers(0, 100),
    st.none() | st.integers(0, 10), medications, st.integers(0, 10**6),
), max_size=40, unique_by=lambda entry: entry.key)
moments = st.integers(0, 10 * 24 * 60).map(lambda minutes: START + timedelta(minutes=minutes))


TIMELINESS = ("entries_late", "timely_percent")


def comparable(result):
    return result.outcome, result.final, result.metrics, [c.as_dict() for c in result.criteria]


@settings(max_examples=200, deadline=None)
@given(entries, moments, st.randoms())
def test_the_order_of_entries_does_not_matter(diary, now, random):
    shuffled = list(diary)
    random.shuffle(shuffled)
    assert comparable(evaluate(TRIAL, diary, now)) == comparable(evaluate(TRIAL, shuffled, now))


@settings(max_examples=200, deadline=None)
@given(entries, st.integers(0, 10), st.integers(1, 7))
def test_adding_a_day_of_better_pain_never_lowers_relief(diary, score, day):
    now = END + timedelta(hours=1)
    before = evaluate(TRIAL, diary, now).metrics
    fresh_day = START.replace(hour=12) + timedelta(days=day)
    if before["trial_pain"] is not None and score > before["trial_pain"]:
        return  # only a day at or below the trial's pain so far is "better"
    local = ZoneInfo(TRIAL.timezone)  # days are the trial's local dates (EDT after 03-08, not the -05:00 offset)
    if any(e.recorded_at.astimezone(local).date() == fresh_day.astimezone(local).date() for e in diary):
        return  # a new day, not more entries in an old one
    after = evaluate(TRIAL, [*diary, Entry(fresh_day, score, key="new")], now).metrics
    assert before["pain_relief_percent"] is None or after["pain_relief_percent"] >= before["pain_relief_percent"]


@settings(max_examples=200, deadline=None)
@given(entries, moments)
def test_bucket_counts_and_ranges_are_consistent(diary, now):
    result = evaluate(TRIAL, diary, now)
    m = result.metrics
    assert 0 <= m["data_buckets"] <= m["counted_buckets"]
    assert 0 <= m["compliance"] <= 1
    assert result.final == (now >= END)
    if m["data_buckets"] == 0:
        assert m["trial_pain"] is None and result.outcome == "insufficient_data"
    else:
        assert 0 <= m["trial_pain"] <= 10
        assert abs(m["pain_relief_percent"] - (7.5 - m["trial_pain"]) / 7.5 * 100) <= 0.05 + 1e-9
    assert sum(b.entries for b in result.buckets) <= len(diary)


@settings(max_examples=100, deadline=None)
@given(entries, moments)
def test_entries_outside_the_window_change_nothing(diary, now):
    outside = [Entry(START - timedelta(minutes=1), 10, key="before"), Entry(min(now, END) + timedelta(seconds=1), 0,
                                                                          key="after")]
    assert in_window(evaluate(TRIAL, diary, now)) == in_window(evaluate(TRIAL, [*diary, *outside], now))


def in_window(result):
    """All but the timeliness figures, which count every entry the patient sent (domain/timeliness.py)."""
    outcome, final, metrics, criteria = comparable(result)
    return outcome, final, {k: v for k, v in metrics.items() if k not in TIMELINESS}, criteria
