"""Pre-trial documentation rules: code formats, the NPI check digit, the readiness checklist per therapy."""

from datetime import UTC, date, datetime

import pytest

from api.domain import readiness
from api.domain.documentation import cpt_or_hcpcs, icd10cm, latest_past_date, months_of, npi_problem

COMPLETE = {
    "indications": [{"code": "M96.1", "description": "Postlaminectomy syndrome"}],
    "procedures": [{"code": "63650"}],
    "conservative_treatments": [{"treatment": "physical therapy", "duration": 26, "unit": "weeks"}],
    "psychological_evaluation": {"date": "2026-09-14", "clinician": "Dr. Chen", "cleared": True},
    "substance_use_screening": {"date": "2026-09-14", "result": "negative"},
    "imaging": [{"date": "2026-07-30", "modality": "mri", "region": "lumbar spine"}],
}
PUMP = {**COMPLETE, "procedures": [{"code": "62323"}], "life_expectancy_months": 24}
SCS_ITEMS = ["indication", "procedure", "conservative_treatment", "psychological_evaluation",
             "substance_use_screening", "imaging"]


@pytest.mark.parametrize(("written", "stored"), [
    ("M96.1", "M96.1"), ("g89.4", "G89.4"), ("M54.16", "M54.16"), ("G90.50", "G90.50"), ("M5416", "M54.16"),
    ("T85.192A", "T85.192A"), ("G89", "G89"), (" m96.1 ", "M96.1"),
])
def test_icd10cm_codes_are_accepted_and_written_dotted(written, stored):
    assert icd10cm(written) == stored


@pytest.mark.parametrize("code", ["96.1", "MM6.1", "M9", "M96.12345", "M96.", "M96-1", "", "M96.1.2", "1M96"])
def test_other_shapes_are_not_icd10cm(code):
    assert icd10cm(code) is None


@pytest.mark.parametrize(("code", "valid"), [
    ("63650", True), ("62350", True), ("62327", True), ("L8680", True), ("0784T", True), ("c1820", True),
    ("6365", False), ("636500", False), ("63650-59", False), ("AB123", False), ("6365A", False), ("", False),
])
def test_cpt_and_hcpcs_codes(code, valid):
    assert (cpt_or_hcpcs(code) is not None) is valid


@pytest.mark.parametrize(("npi", "problem"), [
    ("1234567893", None), ("1245319599", None),
    ("1234567890", "The check digit does not match (not a valid NPI)."),
    ("1245319598", "The check digit does not match (not a valid NPI)."),
    ("123456789", "Must be 10 digits."), ("12345678931", "Must be 10 digits."), ("12345678a3", "Must be 10 digits."),
])
def test_npi_check_digit(npi, problem):
    assert npi_problem(npi) == problem


def test_durations_and_date_bounds():
    assert months_of(26, "weeks") == 6 and months_of(6, "months") == 6
    # 23:00 UTC is already the next day east of UTC: a date written there must not be "in the future".
    assert latest_past_date(datetime(2026, 11, 21, 23, 0, tzinfo=UTC)) == date(2026, 11, 22)


def test_a_complete_scs_record_is_ready():
    verdict = readiness.readiness("scs", COMPLETE)
    assert verdict["ready"] is True and verdict["missing"] == []
    assert [i["key"] for i in verdict["items"]] == SCS_ITEMS
    assert {i["status"] for i in verdict["items"]} == {"documented"}
    assert verdict["sources"] == ["LCD L37632", "NCD 160.7", "EviCore CMM-211"]


@pytest.mark.parametrize(("field", "key", "words"), [
    ("indications", "indication", "No ICD-10-CM diagnosis code"),
    ("procedures", "procedure", "No CPT/HCPCS code"),
    ("conservative_treatments", "conservative_treatment", "No conservative treatment documented (at least 6 months)"),
    ("psychological_evaluation", "psychological_evaluation", "No psychological evaluation"),
    ("substance_use_screening", "substance_use_screening", "No substance use screening"),
    ("imaging", "imaging", "No imaging"),
])
@pytest.mark.parametrize("therapy", ["scs", "intrathecal"])
def test_each_missing_item_is_named(therapy, field, key, words):
    record = {k: v for k, v in (COMPLETE if therapy == "scs" else PUMP).items() if k != field}
    verdict = readiness.readiness(therapy, record)
    assert verdict["ready"] is False
    assert [(i["key"], i["status"]) for i in verdict["items"] if i["status"] != "documented"] == [(key, "missing")]
    assert len(verdict["missing"]) == 1 and verdict["missing"][0].startswith(words)


def test_a_pump_asks_for_life_expectancy_of_three_months():
    assert [i["key"] for i in readiness.readiness("intrathecal", PUMP)["items"]] == [*SCS_ITEMS, "life_expectancy"]
    assert readiness.readiness("intrathecal", PUMP)["ready"] is True
    assert readiness.readiness("intrathecal", {**PUMP, "life_expectancy_months": 3})["ready"] is True
    short = readiness.readiness("intrathecal", {**PUMP, "life_expectancy_months": 2})
    assert short["missing"] == ["Life expectancy: estimated at 2 months (at least 3 months asked)."]
    absent = readiness.readiness("intrathecal", {k: v for k, v in PUMP.items() if k != "life_expectancy_months"})
    assert absent["missing"] == ["No life expectancy documented (at least 3 months asked)."]
    assert "life_expectancy" not in [i["key"] for i in readiness.readiness("scs", COMPLETE)["items"]]
    assert readiness.readiness("intrathecal", PUMP)["sources"][0] == "NCD 280.14"


@pytest.mark.parametrize(("change", "key", "words"), [
    ({"conservative_treatments": [{"treatment": "PT", "duration": 25, "unit": "weeks"},
                                  {"treatment": "NSAIDs", "duration": 5, "unit": "months"}]},
     "conservative_treatment", "Conservative treatment: the longest course documented is 5.8 months (at least 6"),
    ({"psychological_evaluation": {"date": "2026-09-14", "clinician": "Dr. Chen", "cleared": False}},
     "psychological_evaluation", "Psychological evaluation by Dr. Chen on 2026-09-14: not cleared"),
    ({"substance_use_screening": {"date": "2026-09-14", "result": "active"}},
     "substance_use_screening", "Substance use: screened on 2026-09-14: active substance use disorder"),
    ({"procedures": [{"code": "62350"}]}, "procedure", "Trial procedure coded 62350: none of the codes this clinic"),
])
def test_recorded_but_short_of_the_requirement_is_not_met(change, key, words):
    verdict = readiness.readiness("scs", {**COMPLETE, **change})
    assert [(i["key"], i["status"]) for i in verdict["items"] if i["status"] != "documented"] == [(key, "not_met")]
    assert verdict["missing"][0].startswith(words)
    item = next(i for i in verdict["items"] if i["key"] == key)
    assert item["gap"] == verdict["missing"][0] and item["detail"] != item["gap"]


def test_screening_in_remission_and_six_months_exactly_are_enough():
    record = {**COMPLETE, "substance_use_screening": {"date": "2026-09-14", "result": "in_remission"},
              "conservative_treatments": [{"treatment": "PT", "duration": 6, "unit": "months"}]}
    assert readiness.readiness("scs", record)["ready"] is True


def test_a_clinic_override_changes_what_is_asked():
    record = {**COMPLETE, "conservative_treatments": [{"treatment": "PT", "duration": 12, "unit": "weeks"}]}
    del record["imaging"]
    assert readiness.readiness("scs", record)["ready"] is False
    relaxed = readiness.readiness("scs", record, {"min_conservative_treatment_months": 2, "require_imaging": False})
    assert relaxed["ready"] is True and "imaging" not in [i["key"] for i in relaxed["items"]]
    assert relaxed["requirements"]["min_conservative_treatment_months"] == 2
    stricter = readiness.readiness("scs", COMPLETE, {"min_life_expectancy_months": 12})
    assert stricter["missing"] == ["No life expectancy documented (at least 12 months asked)."]
    any_code = readiness.readiness("scs", {**COMPLETE, "procedures": [{"code": "64999"}]}, {"procedure_codes": []})
    assert any_code["ready"] is True


def test_a_therapy_without_defaults_asks_for_its_codes():
    verdict = readiness.readiness("medial_branch_block", {})
    assert [i["key"] for i in verdict["items"]] == ["indication", "procedure"] and verdict["sources"] == []


@pytest.mark.parametrize(("overrides", "problems"), [
    ({"require_imaging": "no"}, {"require_imaging": "Must be true or false."}),
    ({"min_conservative_treatment_months": 121}, {"min_conservative_treatment_months": "Must be between 0 and 120."}),
    ({"min_life_expectancy_months": True}, {"min_life_expectancy_months": "Must be a number."}),
    ({"procedure_codes": ["63650", "6365"]},
     {"procedure_codes": "Not CPT/HCPCS codes (5 digits, or a letter and 4 digits): 6365."}),
    ({"procedure_codes": "63650"}, {"procedure_codes": "Must be a list of at most 50 CPT/HCPCS codes."}),
    ({"surgeon_count": 2}, {"surgeon_count": "Unknown readiness requirement."}),
    ([], {"_schema": "Must be an object of readiness requirements."}),
    ({"min_conservative_treatment_months": 3, "require_imaging": False, "procedure_codes": ["l8680"]}, {}),
])
def test_requirement_overrides_are_validated(overrides, problems):
    assert readiness.requirement_problems(overrides) == problems


def test_documentation_outside_the_checklist_is_still_described():
    described = {i.key: i.detail for i in readiness.described({"life_expectancy_months": 36, "imaging": []})}
    assert described == {"life_expectancy": "Estimated at 36 months."}
