"""The physician's decision, the PDF report, the FHIR Bundle and the CSV export."""

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from pypdf import PdfReader

from api.exports.wording import number
from api.extensions import db
from api.models import AuditEvent

from .. import worked_example
from ..conftest import drain, entry
from ..factories import UserFactory


def pdf_text(response) -> tuple[str, PdfReader]:
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(response.data))
    return "\n".join(page.extract_text() for page in reader.pages), reader


def worked_trial(world, app) -> int:
    trial = world.as_nurse.post("/trials", json={**worked_example.TRIAL, "patient_id": world.patient_id,
                                                 "device": "Demo SCS trial stimulator",
                                                 "care_team": [world.nurse_id, world.physician_id]}).get_json()
    world.as_patient.post(f"/trials/{trial['id']}/entries/batch", json={"entries": worked_example.entries()})
    drain(app)
    return trial["id"]


def test_a_physician_of_the_care_team_decides_once_and_the_diary_closes(world, app):
    url = f"/trials/{world.trial_id}/decision"
    body = {"decision": "implant", "rationale": "57.5 % relief with better function; no complications."}
    with app.app_context():
        from api.models import Clinic

        outsider = UserFactory(clinic=db.session.query(Clinic).filter_by(name="Clinic A").one(), role="physician")
        db.session.commit()
        outsider_email = outsider.email
    from ..conftest import sign_in

    assert sign_in(world.client, outsider_email).post(url, json=body).status_code == 403  # not on the care team
    assert world.as_nurse.post(url, json=body).status_code == 403
    assert world.as_patient.post(url, json=body).status_code == 403
    assert world.as_second_patient.post(url, json=body).status_code == 404
    assert world.as_other_nurse.post(url, json=body).status_code == 404
    assert world.as_physician.get(url).status_code == 404  # nothing decided yet
    assert world.as_physician.post(url, json={"decision": "maybe", "rationale": "x"}).status_code == 422
    assert world.as_physician.post(url, json={"decision": "implant"}).status_code == 422

    decided = world.as_physician.post(url, json=body)
    assert decided.status_code == 201 and decided.get_json()["decision"] == "implant"
    again = world.as_physician.post(url, json={**body, "decision": "no_implant"})
    assert again.status_code == 409
    assert world.as_nurse.get(url).get_json()["decision"] == "implant"
    assert world.as_patient.get(url).get_json()["rationale"] == body["rationale"]
    assert world.as_nurse.get(f"/trials/{world.trial_id}").get_json()["status"] == "decided"
    closed = world.as_patient.post(f"/trials/{world.trial_id}/entries", json=entry())
    assert closed.status_code == 409 and closed.get_json()["code"] == "trial_closed"
    with app.app_context():
        outcomes = {(e.action, e.outcome) for e in db.session.query(AuditEvent).filter_by(patient_id=world.patient_id)}
    assert ("decision.create", "success") in outcomes and ("decision.create", "forbidden") in outcomes


def test_the_report_of_the_worked_example_states_its_figures_and_charts(world, app):
    trial_id = worked_trial(world, app)
    world.as_physician.post(f"/trials/{trial_id}/decision",
                            json={"decision": "implant", "rationale": "Relief above threshold & function better."})
    text, reader = pdf_text(world.as_nurse.get(f"/trials/{trial_id}/report.pdf"))
    assert len(reader.pages) <= 2
    for expected in ("FINAL RESULT: SUCCESS", "Clinic A", "1958-04-12", "MRN", "Demo SCS trial stimulator",
                     "57.5 % relief", "3.4", "30", "48", "34", "Entries on 5 of 6 counted days (83 %",
                     "Pain relief", "Oswestry Disability Index improved by 14 points",
                     "Proceed to a permanent spinal cord stimulator implant",
                     "Relief above threshold & function better."):
        assert expected in text, expected
    assert "Compliance 0" not in text
    assert text.count("Met") >= 3
    assert sum(len(page.images) for page in reader.pages) >= 1  # the charts


@pytest.mark.parametrize(("scores", "odi", "outcome"), [
    ([7, 7, 6, 7], 45, "FAILURE"),
    ([2], None, "INSUFFICIENT DATA"),
])
def test_reports_of_other_outcomes(world, app, scores, odi, outcome):
    start = datetime.now(UTC) - timedelta(days=8)
    trial = world.as_nurse.post("/trials", json={
        "patient_id": world.patient_id, "therapy": "scs", "start_at": start.isoformat(),
        "end_at": (start + timedelta(days=6)).isoformat(), "timezone": "UTC",
        "baseline": {"pain": 8, "mme": 10, "odi": 50}}).get_json()
    for day, score in enumerate(scores, start=1):
        fields = {"function": {"odi": odi}} if odi is not None and day == len(scores) else {}
        world.as_patient.post(f"/trials/{trial['id']}/entries",
                              json=entry(start + timedelta(days=day, hours=2), score=score,
                                         symptoms=["fever"] if day == 1 else [], **fields))
    drain(app)
    text, _ = pdf_text(world.as_nurse.get(f"/trials/{trial['id']}/report.pdf"))
    assert f"FINAL RESULT: {outcome}" in text
    assert "possible infection" in text and "not acknowledged" in text
    latest = world.as_nurse.get(f"/trials/{trial['id']}/evaluations/latest").get_json()
    assert f"{number(latest['metrics']['pain_relief_percent'])} % relief" in text


def test_an_interim_report_is_marked_interim(world, app):
    world.as_patient.post(f"/trials/{world.trial_id}/entries", json=entry(score=3))
    text, _ = pdf_text(world.as_nurse.get(f"/trials/{world.trial_id}/report.pdf"))
    assert "INTERIM RESULT (trial not over)" in text and "FINAL RESULT" not in text


def test_the_fhir_bundle_of_the_worked_example_validates_with_the_right_codes(world, app):
    trial_id = worked_trial(world, app)
    response = world.as_nurse.get(f"/trials/{trial_id}/fhir")
    assert response.status_code == 200 and response.content_type == "application/fhir+json; fhirVersion=4.0"
    bundle = response.get_json()
    resources = [e["resource"] for e in bundle["entry"]]
    of = lambda kind: [r for r in resources if r["resourceType"] == kind]  # noqa: E731
    coded = lambda code: [r for r in of("Observation") if r["code"]["coding"][0]["code"] == code]  # noqa: E731
    patient = of("Patient")[0]
    assert patient["birthDate"] == "1958-04-12" and patient["identifier"][0]["value"].startswith("MRN")
    pain = coded("72514-3")
    assert [o["code"]["coding"][0]["system"] for o in pain] == ["http://loinc.org"] * 8
    assert sorted(o["valueQuantity"]["value"] for o in pain) == [2, 3, 3, 3, 4, 4, 5, 6]
    assert [o["valueQuantity"]["value"] for o in coded("oswestry-disability-index")] == [34]
    meds = of("MedicationStatement")
    assert [(m["medicationCodeableConcept"]["text"], m["dosage"][0]["doseAndRate"][0]["doseQuantity"]["value"])
            for m in meds] == [("oxycodone", 10)]
    outcome = coded("trial-outcome")[0]
    assert outcome["status"] == "final" and outcome["valueCodeableConcept"]["coding"][0]["code"] == "success"
    relief = next(c for c in outcome["component"] if c["code"]["coding"][0]["code"] == "pain_relief_percent")
    assert relief["valueQuantity"]["value"] == 57.5
    assert all(r["subject"]["reference"] == bundle["entry"][0]["fullUrl"] for r in resources[1:] if "subject" in r)
    assert world.as_patient.get(f"/trials/{trial_id}/fhir").status_code == 403
    assert world.as_other_nurse.get(f"/trials/{trial_id}/fhir").status_code == 404


def test_the_csv_export_lists_entries_and_defuses_formulas(world, app):
    url = f"/trials/{world.trial_id}/entries"
    world.as_patient.post(url, json=entry(score=5, note="=HYPERLINK(\"http://x\")", symptoms=["nausea", "itching"],
                                          medications=[{"name": "tramadol", "dose": 50, "unit": "mg"}]))
    voided = world.as_patient.post(url, json=entry(score=9)).get_json()
    world.as_patient.delete(f"{url}/{voided['id']}?reason=wrong+day")
    response = world.as_nurse.get(f"/trials/{world.trial_id}/entries.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [(r["pain_score"], r["voided"]) for r in rows] == [("5", "no"), ("9", "yes")]
    assert rows[0]["note"].startswith("'=") and rows[0]["symptoms"] == "nausea; itching"
    assert rows[0]["medications"] == "tramadol 50 mg" and rows[1]["void_reason"] == "wrong day"
