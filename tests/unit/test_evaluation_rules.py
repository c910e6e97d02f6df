"""docs/clinical-rules.md §2, rule by rule, on the pure domain function."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from api.domain.evaluation import Baseline, Entry, TrialFacts, evaluate
from api.domain.mme import Medication, daily_mme
from api.domain.numbers import rounded
from api.domain.protocol import DEFAULTS, effective_protocol, override_problems


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


WORKED_BASELINE = Baseline(8, 30, 48)


def scs(baseline=WORKED_BASELINE, start="2026-11-02T14:00-05:00", end="2026-11-09T09:00-05:00",
        timezone="America/New_York", **overrides) -> TrialFacts:
    return TrialFacts("scs", at(start), at(end), timezone, baseline, effective_protocol("scs", overrides))


BOLUS_BASELINE = Baseline(7)


def intrathecal(baseline=BOLUS_BASELINE, start="2026-11-02T08:00+00:00", end="2026-11-02T20:00+00:00",
                **overrides) -> TrialFacts:
    return TrialFacts("intrathecal", at(start), at(end), "UTC", baseline, effective_protocol("intrathecal", overrides))


def e(when: str, score: float = 4, **fields) -> Entry:
    return Entry(recorded_at=at(when), pain_score=score, key=when, **fields)


def oxy(mg: float) -> tuple[Medication, ...]:
    return (Medication("oxycodone", mg, "mg", "oral"),)


WORKED = [
    e("2026-11-02T18:00-05:00", 7),
    e("2026-11-03T09:00-05:00", 5), e("2026-11-03T20:00-05:00", 3),
    e("2026-11-04T09:00-05:00", 4, medications=oxy(10)),
    e("2026-11-06T09:00-05:00", 3),
    e("2026-11-07T09:00-05:00", 2), e("2026-11-07T21:00-05:00", 4, odi=34),
    e("2026-11-08T09:00-05:00", 3),
]


def criteria(result) -> dict[str, str]:
    return {c.name: c.status for c in result.criteria}


def test_the_worked_example_gives_exactly_its_figures():
    result = evaluate(scs(), WORKED, at("2026-11-09T10:00-05:00"))
    assert result.final is True
    assert result.outcome == "success"
    m = result.metrics
    assert (m["data_buckets"], m["counted_buckets"], m["compliance"]) == (5, 6, 0.833)
    assert m["trial_pain"] == pytest.approx(3.4)
    assert (m["pain_relief_percent"], m["baseline_mme"], m["trial_mme"], m["latest_odi"]) == (57.5, 30.0, 3.0, 34)
    assert [b.mme for b in result.buckets if b.entries] == [0.0, 15.0, 0.0, 0.0, 0.0]
    function = next(c for c in result.criteria if c.name == "function")
    assert function.value == {"odi_improvement": 14} and function.status == "met"
    assert criteria(result) == {"pain_relief": "met", "function": "met", "analgesic_use": "met",
                                "side_effects": "met", "patient_global_impression": "not_assessed"}


def test_an_evaluation_before_the_end_is_interim_and_stops_its_window_at_now():
    result = evaluate(scs(), WORKED, at("2026-11-06T12:00-05:00"))
    assert result.final is False
    # 11-03, 11-04 with data, 11-05 closed and empty; 11-06 holds data though not closed.
    assert (result.metrics["data_buckets"], result.metrics["counted_buckets"]) == (3, 4)


def test_entries_outside_the_window_are_ignored():
    late = [*WORKED, e("2026-11-09T09:30-05:00", 10)]  # after end_at
    early = [*WORKED, e("2026-11-02T13:00-05:00", 10)]  # before start_at, same local day
    baseline = evaluate(scs(), WORKED, at("2026-11-09T10:00-05:00")).metrics
    assert evaluate(scs(), late, at("2026-11-09T10:00-05:00")).metrics == baseline
    assert evaluate(scs(), early, at("2026-11-09T10:00-05:00")).metrics == baseline


def test_an_entry_belongs_to_the_local_date_whatever_offset_the_phone_sent():
    # 02:30 UTC on 11-04 is 21:30 on 11-03 in New York.
    entries = [e("2026-11-04T02:30+00:00", 2), e("2026-11-04T12:00-05:00", 6)]
    result = evaluate(scs(), entries, at("2026-11-05T12:00-05:00"))
    assert [b.label for b in result.buckets if b.entries] == ["2026-11-03", "2026-11-04"]


def test_day_buckets_follow_daylight_saving_changes():
    # America/New_York leaves DST on 2026-11-01: that day has 25 hours, and is one bucket.
    trial = scs(start="2026-10-31T10:00-04:00", end="2026-11-03T10:00-05:00")
    entries = [e("2026-11-01T00:30-04:00", 4), e("2026-11-01T23:30-05:00", 2)]
    result = evaluate(trial, entries, at("2026-11-03T10:00-05:00"))
    first = result.buckets[0]
    assert first.label == "2026-11-01" and first.entries == 2 and first.pain == 3
    assert first.end - first.start == timedelta(hours=25)


def test_compliance_counts_closed_empty_buckets_but_not_an_empty_today():
    entries = [e("2026-11-03T09:00-05:00", 4)]
    today_empty = evaluate(scs(), entries, at("2026-11-05T08:00-05:00"))
    assert (today_empty.metrics["data_buckets"], today_empty.metrics["counted_buckets"]) == (1, 2)
    assert today_empty.metrics["compliance"] == 0.5


def test_compliance_is_zero_when_nothing_is_counted():
    result = evaluate(scs(), [], at("2026-11-02T20:00-05:00"))
    assert result.metrics["compliance"] == 0.0
    assert result.outcome == "insufficient_data"
    assert criteria(result)["pain_relief"] == "not_assessed"


def test_each_bucket_weighs_the_same_however_many_entries_it_holds():
    entries = [e("2026-11-03T08:00-05:00", 2), *(e(f"2026-11-04T{h:02d}:00-05:00", 8) for h in range(8, 16))]
    result = evaluate(scs(), entries, at("2026-11-05T12:00-05:00"))
    assert result.metrics["trial_pain"] == 5


def test_relief_is_negative_when_pain_got_worse():
    entries = [e(f"2026-11-0{d}T09:00-05:00", 10) for d in (3, 4, 5)]
    result = evaluate(scs(), entries, at("2026-11-06T12:00-05:00"))
    assert result.metrics["pain_relief_percent"] == -25.0
    assert criteria(result)["pain_relief"] == "not_met"


def test_a_value_within_1e_9_of_its_threshold_reaches_it():
    # 3 buckets at pain 5, 5, 5.000000000004 against baseline 10: relief 49.99999999996 %.
    entries = [e("2026-11-03T09:00-05:00", 5), e("2026-11-04T09:00-05:00", 5),
               e("2026-11-05T09:00-05:00", 5 + 1.2e-11)]
    result = evaluate(scs(baseline=Baseline(10, 30, 48)), entries, at("2026-11-06T12:00-05:00"))
    assert result.metrics["pain_relief_percent"] == 50.0
    assert criteria(result)["pain_relief"] == "met"
    clearly_short = [*entries[:2], e("2026-11-05T09:00-05:00", 5.001)]
    assert criteria(evaluate(scs(baseline=Baseline(10, 30, 48)), clearly_short,
                             at("2026-11-06T12:00-05:00")))["pain_relief"] == "not_met"


def test_the_outcome_is_insufficient_data_below_the_minimum_buckets_or_compliance():
    two_days = [e("2026-11-03T09:00-05:00", 1, odi=20), e("2026-11-04T09:00-05:00", 1)]
    assert evaluate(scs(), two_days, at("2026-11-05T08:00-05:00")).outcome == "insufficient_data"
    sparse = [e("2026-11-03T09:00-05:00", 1, odi=20), e("2026-11-06T09:00-05:00", 1),
              e("2026-11-08T09:00-05:00", 1)]
    result = evaluate(scs(), sparse, at("2026-11-09T10:00-05:00"))
    assert result.metrics["compliance"] == 0.5
    assert result.outcome == "insufficient_data"
    assert evaluate(scs(min_compliance=0.5), sparse, at("2026-11-09T10:00-05:00")).outcome == "success"


def test_a_required_criterion_not_assessed_makes_the_data_insufficient():
    no_function_data = [e(f"2026-11-0{d}T09:00-05:00", 2) for d in (3, 4, 5, 6)]
    result = evaluate(scs(baseline=Baseline(8, 30)), no_function_data, at("2026-11-07T12:00-05:00"))
    assert criteria(result)["function"] == "not_assessed"
    assert result.outcome == "insufficient_data"
    relaxed = evaluate(scs(baseline=Baseline(8, 30), require_function=False), no_function_data,
                       at("2026-11-07T12:00-05:00"))
    assert relaxed.outcome == "success"


def test_a_required_criterion_not_met_is_a_failure_and_an_optional_one_is_not():
    entries = [e(f"2026-11-0{d}T09:00-05:00", 2, odi=40, pgic=6) for d in (3, 4, 5, 6)]
    result = evaluate(scs(), entries, at("2026-11-07T12:00-05:00"))
    assert criteria(result)["function"] == "not_met"  # ODI 48 -> 40 is 8 points, short of 10
    assert criteria(result)["patient_global_impression"] == "not_met"
    assert result.outcome == "failure"
    assert evaluate(scs(require_function=False), entries, at("2026-11-07T12:00-05:00")).outcome == "success"
    assert evaluate(scs(require_function=False, require_pgic=True), entries,
                    at("2026-11-07T12:00-05:00")).outcome == "failure"


def test_function_is_met_by_either_measure():
    entries = [e(f"2026-11-0{d}T09:00-05:00", 2, interference=4, odi=44) for d in (3, 4, 5)]
    trial = scs(baseline=Baseline(8, 30, 48, 5.5))
    function = next(c for c in evaluate(trial, entries, at("2026-11-06T12:00-05:00")).criteria if c.name == "function")
    assert function.status == "met"  # ODI improved 4 (short), interference 1.5 (enough)
    assert function.value == {"odi_improvement": 4, "interference_improvement": 1.5}


def test_trial_interference_averages_only_the_buckets_that_have_it():
    entries = [e("2026-11-03T09:00-05:00", 2, interference=2), e("2026-11-03T19:00-05:00", 2, interference=4),
               e("2026-11-04T09:00-05:00", 2), e("2026-11-05T09:00-05:00", 2, interference=6)]
    result = evaluate(scs(), entries, at("2026-11-06T12:00-05:00"))
    assert result.metrics["trial_interference"] == 4.5  # buckets 3 and 6


def test_latest_odi_and_pgic_come_from_the_latest_entry_carrying_them_even_on_the_implant_day():
    entries = [e("2026-11-02T16:00-05:00", 5, odi=30, pgic=2), e("2026-11-03T09:00-05:00", 4, odi=40),
               e("2026-11-04T09:00-05:00", 4)]
    metrics = evaluate(scs(), entries, at("2026-11-05T12:00-05:00")).metrics
    assert (metrics["latest_odi"], metrics["latest_pgic"]) == (40, 2)


def test_analgesic_use_compares_with_the_allowed_increase():
    entries = [e(f"2026-11-0{d}T09:00-05:00", 2, odi=30, medications=oxy(22)) for d in (3, 4, 5)]  # 33 MME/day
    strict = evaluate(scs(), entries, at("2026-11-06T12:00-05:00"))
    assert criteria(strict)["analgesic_use"] == "not_met" and strict.outcome == "failure"
    assert criteria(evaluate(scs(max_mme_increase_percent=10), entries, at("2026-11-06T12:00-05:00")))[
        "analgesic_use"] == "met"  # 33 <= 30 x 1.1


def test_analgesic_use_is_not_assessed_without_a_baseline_mme_or_with_hour_buckets():
    entries = [e(f"2026-11-0{d}T09:00-05:00", 2, odi=30) for d in (3, 4, 5)]
    result = evaluate(scs(baseline=Baseline(8, None, 48)), entries, at("2026-11-06T12:00-05:00"))
    assert criteria(result)["analgesic_use"] == "not_assessed" and result.outcome == "insufficient_data"
    zero = evaluate(scs(baseline=Baseline(8, 0, 48)), entries, at("2026-11-06T12:00-05:00"))
    assert criteria(zero)["analgesic_use"] == "met"  # 0 is a value
    hourly = evaluate(scs(bucket="hour"), entries, at("2026-11-06T12:00-05:00"))
    assert criteria(hourly)["analgesic_use"] == "not_assessed" and hourly.metrics["trial_mme"] is None


@pytest.mark.parametrize(("medications", "mme", "unconverted"), [
    ([Medication("Oxycodone", 10, "mg", "oral")], 15, set()),
    ([Medication("morphine", 30, "mg")], 30, set()),  # no route: oral
    ([Medication("codeine", 60, "mg", "oral"), Medication("tramadol", 100, "mg", "oral")], 29, set()),
    ([Medication("hydromorphone", 2, "mg", "oral"), Medication("methadone", 10, "mg", "oral")], 57, set()),
    ([Medication("oxymorphone", 5, "mg"), Medication("tapentadol", 50, "mg"), Medication("hydrocodone", 5, "mg")],
     40, set()),
    ([Medication("fentanyl", 25, "mcg/h", "transdermal")], 60, set()),
    ([Medication("fentanyl", 100, "mcg", "buccal")], 0, {"fentanyl"}),
    ([Medication("buprenorphine", 10, "mcg/h", "transdermal")], 0, {"buprenorphine"}),
    ([Medication("Meperidine", 50, "mg", "oral")], 0, {"meperidine"}),
    ([Medication("morphine", 4, "mg", "intravenous")], 0, {"morphine"}),
    ([Medication("oxycodone", 5, "ml", "oral")], 0, {"oxycodone"}),
    ([Medication("morphine", 0.5, "mg", "intrathecal"), Medication("bupivacaine", 2, "mg", "epidural")], 0, set()),
    ([Medication("gabapentin", 300, "mg", "oral"), Medication("acetaminophen", 1000, "mg")], 0, set()),
])
def test_daily_mme_with_the_cdc_2022_factors(medications, mme, unconverted):
    day = daily_mme([medications])
    assert day.mme == pytest.approx(mme)
    assert day.unconverted == unconverted


def test_a_fentanyl_patch_counts_its_highest_rate_once_a_day_not_per_entry():
    patch = lambda rate: [Medication("fentanyl", rate, "mcg/h", "transdermal")]  # noqa: E731
    assert daily_mme([patch(25), patch(25), patch(12)]).mme == pytest.approx(60)
    assert daily_mme([patch(12), [Medication("oxycodone", 10, "mg", "oral")]]).mme == pytest.approx(28.8 + 15)


def test_unconverted_opioids_are_listed_from_the_evaluated_days_only():
    entries = [e("2026-11-02T16:00-05:00", 5, medications=(Medication("buprenorphine", 5, "mcg/h", "transdermal"),)),
               e("2026-11-03T09:00-05:00", 4, medications=(Medication("Meperidine", 50, "mg", "oral"),))]
    assert evaluate(scs(), entries, at("2026-11-04T12:00-05:00")).metrics["unconverted_medications"] == ["meperidine"]


def test_intrathecal_trials_use_hour_buckets_from_the_bolus_and_judge_side_effects():
    trial = intrathecal()
    entries = [e("2026-11-02T08:30+00:00", 7, sedation_score=3),  # first hour: excluded from pain, not from safety
               *(e(f"2026-11-02T{h:02d}:10+00:00", 3, sedation_score=1) for h in range(9, 14))]
    result = evaluate(trial, entries, at("2026-11-02T14:30+00:00"))
    assert result.protocol["bucket"] == "hour"
    assert (result.metrics["data_buckets"], result.metrics["counted_buckets"]) == (5, 5)  # hours 1-5; 6 is open, empty
    assert result.metrics["pain_relief_percent"] == 57.1
    assert result.metrics["max_sedation_score"] == 3
    assert criteria(result)["side_effects"] == "not_met"
    assert result.outcome == "failure"
    calm = [entries[0].__class__(**{**entries[0].__dict__, "sedation_score": 2}), *entries[1:]]
    assert evaluate(trial, calm, at("2026-11-02T14:30+00:00")).outcome == "success"


def test_respiratory_depression_is_an_unacceptable_side_effect():
    entries = [e(f"2026-11-02T{h:02d}:10+00:00", 2) for h in range(9, 14)]
    entries.append(e("2026-11-02T12:40+00:00", 2, symptoms=("respiratory_depression",)))
    result = evaluate(intrathecal(), entries, at("2026-11-02T14:30+00:00"))
    assert criteria(result)["side_effects"] == "not_met"
    assert evaluate(intrathecal(), [], at("2026-11-02T14:30+00:00")).criteria[3].status == "not_assessed"


def test_an_hour_bucket_closes_exactly_at_its_end():
    entries = [e("2026-11-02T09:10+00:00", 3)]
    open_hour = evaluate(intrathecal(min_data_buckets=1), entries, at("2026-11-02T10:00+00:00"))
    assert (open_hour.metrics["data_buckets"], open_hour.metrics["counted_buckets"]) == (1, 1)
    later = evaluate(intrathecal(min_data_buckets=1), entries, at("2026-11-02T10:00:00.000001+00:00"))
    assert later.metrics["counted_buckets"] == 1  # hour 2 has begun, is open and empty


def test_protocol_defaults_are_data_and_overrides_are_validated():
    assert DEFAULTS["scs"]["min_data_buckets"] == 3 and DEFAULTS["intrathecal"]["bucket"] == "hour"
    assert override_problems({"min_pain_relief_percent": 30, "require_pgic": True}) == {}
    problems = override_problems({"min_pain_relief_percent": 130, "require_pgic": "yes", "colour": "red",
                                  "bucket": "week", "max_sedation_score": 2.5, "min_data_buckets": True})
    assert set(problems) == {"min_pain_relief_percent", "require_pgic", "colour", "bucket", "max_sedation_score",
                             "min_data_buckets"}


def test_reports_round_half_up_to_the_stated_places():
    assert rounded(57.45, 1) == 57.5
    assert rounded(0.8335, 3) == 0.834
    assert rounded(2 / 3, 3) == 0.667
    assert rounded(None, 1) is None
