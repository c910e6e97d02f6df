"""docs/clinical-rules.md §3's rules on single entries."""

import pytest

from api.domain.safety import findings, initials


def fired(baseline_pain=6, **entry):
    return {(f.rule, f.severity) for f in findings({"pain": {"score": 3}, **entry}, baseline_pain=baseline_pain)}


@pytest.mark.parametrize(("entry", "expected"), [
    ({"symptoms": ["new_weakness"]}, {("neuro_deficit", "critical")}),
    ({"symptoms": ["bladder_bowel_change"]}, {("neuro_deficit", "critical")}),
    ({"symptoms": ["respiratory_depression"]}, {("respiratory_depression", "critical")}),
    ({"sedation_score": 3}, {("respiratory_depression", "critical")}),
    ({"sedation_score": 2}, set()),
    ({"temperature_c": 38.0}, {("infection", "high")}),
    ({"temperature_c": 37.9}, set()),
    ({"symptoms": ["wound_drainage"]}, {("infection", "high")}),
    ({"symptoms": ["neck_stiffness"]}, set()),
    ({"symptoms": ["neck_stiffness", "positional_headache"]}, {("infection", "high"), ("csf_leak", "high")}),
    ({"symptoms": ["clear_fluid_leak"]}, {("csf_leak", "high")}),
    ({"symptoms": ["lead_dislodged", "dressing_off"]}, {("lead_problem", "high")}),
    ({"symptoms": ["loss_of_stimulation"]}, {("lead_problem", "medium")}),
    ({"stimulation": {"coverage_percent": 49}}, {("lead_problem", "medium")}),
    ({"stimulation": {"coverage_percent": 50}}, set()),
    ({"symptoms": ["urinary_retention"]}, {("urinary_retention", "high")}),
    ({"symptoms": ["wound_redness"]}, {("wound_concern", "medium")}),
    ({"symptoms": ["wound_swelling"], "temperature_c": 38.5}, {("infection", "high")}),
    ({"symptoms": ["itching", "nausea"]}, {("opioid_side_effects", "low")}),
    ({"symptoms": ["leg_swelling", "other", "chills"]}, set()),
])
def test_each_rule_fires_at_its_severity(entry, expected):
    assert fired(**entry) == expected


def test_a_pain_spike_needs_8_and_two_points_over_baseline():
    assert fired(pain={"score": 8}, baseline_pain=6) == {("pain_spike", "medium")}
    assert fired(pain={"score": 8}, baseline_pain=6.5) == set()
    assert fired(pain={"score": 7}, baseline_pain=4) == set()
    assert fired(pain={"score": 10}, baseline_pain=9) == set()


def test_messages_carry_initials_only():
    assert initials("R. Alvarez") == "R.A."
    assert initials("maria del carmen ruiz") == "M.D.C.R."
