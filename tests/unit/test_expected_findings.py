"""Expected findings in the domain (docs/clinical-rules.md §3 "Expected findings", issue 22): which rules may be
marked, when a finding covers an entry or a missed day, and that a covered firing tells no one below high while a
high or critical firing is never covered."""

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from api.domain.safety import (
    COVERABLE_RULES,
    IMMEDIATE_AUDIENCE,
    RANK,
    RULE_SEVERITIES,
    RULES,
    Expectation,
    alert_status,
    covers_day,
    covers_entry,
    expectation_problems,
    findings,
    told_at_once,
)
from api.domain.vocabulary import SYMPTOMS

NOW = datetime(2026, 3, 10, 12, tzinfo=UTC)
moments = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2026, 6, 1), timezones=st.just(UTC))
expectations = st.lists(st.builds(Expectation, rule=st.sampled_from(RULES), until=moments,
                                  ended_at=st.none() | moments), max_size=4)
entries = st.fixed_dictionaries({"pain": st.fixed_dictionaries({"score": st.integers(0, 10)})}, optional={
    "symptoms": st.lists(st.sampled_from(SYMPTOMS), unique=True, max_size=6),
    "temperature_c": st.floats(35, 41), "sedation_score": st.integers(0, 4),
    "stimulation": st.fixed_dictionaries({"coverage_percent": st.integers(0, 100)}),
})


def test_only_the_rules_that_can_fire_below_high_may_be_expected():
    assert set(COVERABLE_RULES) == {"wound_concern", "lead_problem", "pain_spike", "opioid_side_effects",
                                    "missed_diary"}
    assert set(RULE_SEVERITIES) == set(RULES)


def test_what_a_finding_may_be():
    reason = "Redness at the exit site"
    assert expectation_problems("wound_concern", NOW + timedelta(days=30), reason, NOW) == {}
    assert set(expectation_problems("infection", NOW + timedelta(days=1), reason, NOW)) == {"rule"}
    assert set(expectation_problems("missed_diary", NOW, reason, NOW)) == {"until"}
    assert set(expectation_problems("missed_diary", NOW + timedelta(days=30, seconds=1), reason, NOW)) == {"until"}
    assert set(expectation_problems("pain_spike", NOW + timedelta(days=1), " ", NOW)) == {"reason"}
    assert set(expectation_problems("pain_spike", NOW + timedelta(days=1), "x" * 501, NOW)) == {"reason"}


def test_a_finding_covers_entries_recorded_before_until_while_not_ended():
    found = [Expectation("wound_concern", NOW + timedelta(days=2))]
    assert covers_entry(found, "wound_concern", NOW - timedelta(days=5), NOW)  # recorded before it was made
    assert covers_entry(found, "wound_concern", NOW + timedelta(days=2) - timedelta(seconds=1), NOW)
    assert not covers_entry(found, "wound_concern", NOW + timedelta(days=2), NOW)
    assert not covers_entry(found, "pain_spike", NOW, NOW)
    ended = [Expectation("wound_concern", NOW + timedelta(days=2), ended_at=NOW - timedelta(minutes=1))]
    assert not covers_entry(ended, "wound_concern", NOW - timedelta(hours=1), NOW)


def test_a_missed_diary_finding_covers_the_days_that_end_before_until():
    until = datetime(2026, 3, 12, 8, tzinfo=UTC)
    found = [Expectation("missed_diary", until)]
    assert covers_day(found, "missed_diary", datetime(2026, 3, 12, tzinfo=UTC), NOW)
    assert covers_day(found, "missed_diary", until, NOW)
    assert not covers_day(found, "missed_diary", datetime(2026, 3, 13, tzinfo=UTC), NOW)
    assert not covers_day([Expectation("missed_diary", until, ended_at=NOW)], "missed_diary",
                          datetime(2026, 3, 11, tzinfo=UTC), NOW)


@given(entries, expectations, moments, st.floats(0, 10))
def test_a_covered_rule_never_notifies_below_high_and_a_high_is_never_covered(entry, found, recorded_at, baseline):
    for finding in findings(entry, baseline_pain=baseline):
        assert finding.severity in RULE_SEVERITIES[finding.rule]
        covered = covers_entry(found, finding.rule, recorded_at, NOW)
        status = alert_status(finding.severity, covered)
        if RANK[finding.severity] >= RANK["high"]:
            assert status == "open"
            assert told_at_once(status, finding.severity) == IMMEDIATE_AUDIENCE[finding.severity] != ()
        elif covered:
            assert status == "expected" and told_at_once(status, finding.severity) == ()
        else:
            assert status == "open"


@given(st.sampled_from(RULES), st.booleans())
def test_an_expected_alert_is_only_ever_below_high(rule, covered):
    for severity in RULE_SEVERITIES[rule]:
        assert (alert_status(severity, covered) == "expected") == (covered and RANK[severity] < RANK["high"])
