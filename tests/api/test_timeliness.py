"""Timely entries through the API (docs/clinical-rules.md §2 "Timely entries", issue 22): each entry's `received_at`,
late after 24 hours (2 for intrathecal trials and blocks), the evaluation's `entries_late` and `timely_percent`
over non-voided entries, FHIR Observations' `issued`, and the report's sentence."""

import csv
import io
from datetime import UTC, datetime, timedelta

from ..conftest import drain, entry
from .test_decision_and_exports import pdf_text


def _ago(hours: float) -> datetime:
    return datetime.now(UTC) - timedelta(hours=hours)


def test_late_entries_of_a_day_diary_are_counted_and_marked(world, app):
    patient, nurse = world.as_patient, world.as_nurse
    path = f"/trials/{world.trial_id}/entries"
    late = patient.post(path, json=entry(_ago(25), score=5)).get_json()
    for hours in (23.5, 1):
        assert patient.post(path, json=entry(_ago(hours))).status_code == 201
    voided = patient.post(path, json=entry(_ago(40))).get_json()
    assert patient.delete(f"{path}/{voided['id']}", json={"reason": "entered twice"}).status_code == 200
    drain(app)

    listed = {e["id"]: e for e in nurse.get(path).get_json()["items"]}
    assert listed[late["id"]]["late"] is True
    assert sum(e["late"] for e in listed.values()) == 2  # the voided one was late too: marked, not counted
    received = datetime.fromisoformat(listed[late["id"]]["received_at"])
    assert timedelta(0) <= datetime.now(UTC) - received < timedelta(minutes=10)
    metrics = nurse.get(f"/trials/{world.trial_id}/evaluations/latest").get_json()["metrics"]
    assert (metrics["entries_late"], metrics["timely_percent"]) == (1, 66.7)
    row = next(r for r in nurse.get("/monitoring/trials").get_json() if r["trial_id"] == world.trial_id)
    assert row["timely_percent"] == 66.7

    bundle = nurse.get(f"/trials/{world.trial_id}/fhir").get_json()
    observations = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Observation"
                    and "effectiveDateTime" in e["resource"] and e["resource"]["code"].get("text", "").startswith(
                        "Pain severity")]
    # the voided entry stays, withdrawn (entered-in-error), so that a copy an EHR filed earlier is withdrawn too
    assert sorted(o["status"] for o in observations) == ["entered-in-error", "final", "final", "final"]
    assert all(datetime.fromisoformat(o["issued"]) >= datetime.fromisoformat(o["effectiveDateTime"])
               for o in observations)

    rows = list(csv.DictReader(io.StringIO(nurse.get(f"/trials/{world.trial_id}/entries.csv").get_data(as_text=True))))
    assert sorted(r["late"] for r in rows) == ["no", "no", "yes", "yes"] and all(r["received_at"] for r in rows)

    text, _ = pdf_text(nurse.get(f"/trials/{world.trial_id}/report.pdf"))
    flat = " ".join(text.split())
    assert "2 of 3 entries were sent within 24 hours of the time they describe." in flat
    assert "Received (late)" in flat


def test_an_intrathecal_diary_is_late_after_two_hours(world, app):
    start = _ago(6)
    trial = world.as_nurse.post("/trials", json={
        "patient_id": world.patient_id, "therapy": "intrathecal", "start_at": start.isoformat(),
        "end_at": (start + timedelta(hours=24)).isoformat(), "baseline": {"pain": 8},
        "care_team": [world.nurse_id]}).get_json()
    path = f"/trials/{trial['id']}/entries"
    bodies = [entry(_ago(hours)) for hours in (3, 2.5, 1.5, 0.2)]
    stored = [world.as_patient.post(path, json=body) for body in bodies]
    assert [answer.status_code for answer in stored] == [201] * 4
    # Each answer says it with the trial's therapy (2 hours here, 24 for a day diary), as every later read does.
    assert [answer.get_json()["late"] for answer in stored] == [True, True, False, False]
    first = stored[0].get_json()["id"]
    replay = world.as_patient.post(path, json=bodies[0])
    corrected = world.as_patient.patch(f"{path}/{first}", json={"note": "after the refill"})
    voided = world.as_patient.delete(f"{path}/{stored[3].get_json()['id']}", json={"reason": "entered twice"})
    assert [(a.status_code, a.get_json()["late"]) for a in (replay, corrected, voided)] == [
        (200, True), (200, True), (200, False)]
    drain(app)
    assert [e["late"] for e in world.as_nurse.get(path).get_json()["items"]].count(True) == 2
    metrics = world.as_nurse.get(f"/trials/{trial['id']}/evaluations/latest").get_json()["metrics"]
    assert (metrics["entries_late"], metrics["timely_percent"]) == (2, 33.3)  # of the three not voided
