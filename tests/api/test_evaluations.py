"""Evaluations through the API: what the worker does is called in-process here (tests/integration runs it
on a real worker); the due-time rows are what the API writes."""

from datetime import UTC, datetime, timedelta

from api.extensions import db
from api.models import Evaluation

from .. import worked_example
from ..conftest import drain, entry


def run_due(app) -> int:
    """Evaluate what is due (as beat and a worker would); returns how many evaluations were stored."""
    with app.app_context():
        before = db.session.query(Evaluation).count()
    drain(app)
    with app.app_context():
        return db.session.query(Evaluation).count() - before


def test_the_worked_example_gives_exactly_its_figures_through_the_api(world, app):
    nurse = world.as_nurse
    trial = nurse.post("/trials", json={**worked_example.TRIAL, "patient_id": world.patient_id}).get_json()
    assert trial["status"] == "ended"  # registered after the fact
    results = world.as_patient.post(f"/trials/{trial['id']}/entries/batch",
                                    json={"entries": worked_example.entries()}).get_json()["results"]
    assert {r["status"] for r in results} == {"created"}
    assert nurse.post(f"/trials/{trial['id']}/evaluations").status_code == 202
    assert run_due(app) == 1
    latest = nurse.get(f"/trials/{trial['id']}/evaluations/latest").get_json()
    worked_example.assert_matches(latest)
    assert world.as_patient.get(f"/trials/{trial['id']}/evaluations/latest").get_json() == latest

    summary = nurse.get(f"/trials/{trial['id']}/summary").get_json()
    days = [(b["label"], b["entries"], b["pain"], b["mme"]) for b in summary["buckets"]]
    assert days == [("2026-11-03", 2, 4.0, 0.0), ("2026-11-04", 1, 4.0, 15.0), ("2026-11-05", 0, None, None),
                    ("2026-11-06", 1, 3.0, 0.0), ("2026-11-07", 2, 3.0, 0.0), ("2026-11-08", 1, 3.0, 0.0),
                    ("2026-11-09", 0, None, None)]
    assert summary["baseline"] == {"pain": 8, "mme": 30, "odi": 48}


def test_an_identical_result_is_not_stored_twice(world, app):
    patient = world.as_patient
    patient.post(f"/trials/{world.trial_id}/entries", json=entry(score=3))
    assert run_due(app) == 1
    world.as_nurse.post(f"/trials/{world.trial_id}/evaluations")
    assert run_due(app) == 0
    assert len(world.as_nurse.get(f"/trials/{world.trial_id}/evaluations").get_json()) == 1


def test_a_voided_entry_is_as_if_never_sent(world, app):
    patient, url = world.as_patient, f"/trials/{world.trial_id}/entries"
    yesterday = datetime.now(UTC) - timedelta(days=1)
    kept = patient.post(url, json=entry(yesterday, score=2)).get_json()
    run_due(app)
    before = world.as_nurse.get(f"/trials/{world.trial_id}/evaluations/latest").get_json()
    voided = patient.post(url, json=entry(yesterday + timedelta(hours=1), score=9)).get_json()
    run_due(app)
    patient.delete(f"{url}/{voided['id']}", json={"reason": "Wrong patient's phone"})
    run_due(app)
    after = world.as_nurse.get(f"/trials/{world.trial_id}/evaluations/latest").get_json()
    assert after["metrics"] == before["metrics"] and after["id"] != before["id"]
    assert kept["id"] != voided["id"]


def test_a_correction_changes_the_evaluation_and_history_is_kept(world, app):
    patient, url = world.as_patient, f"/trials/{world.trial_id}/entries"
    created = patient.post(url, json=entry(datetime.now(UTC) - timedelta(days=1), score=6)).get_json()
    run_due(app)
    patient.patch(f"{url}/{created['id']}", json={"pain": {"score": 2}})
    run_due(app)
    history = world.as_nurse.get(f"/trials/{world.trial_id}/evaluations").get_json()
    assert [h["metrics"]["trial_pain"] for h in history] == [2.0, 6.0]  # newest first


def test_a_cancelled_trial_closes_its_diary(world, app):
    nurse, url = world.as_nurse, f"/trials/{world.trial_id}/entries"
    created = world.as_patient.post(url, json=entry()).get_json()
    assert nurse.patch(f"/trials/{world.trial_id}", json={"status": "cancelled"}).get_json()["status"] == "cancelled"
    for response in (world.as_patient.post(url, json=entry()),
                     world.as_patient.post(f"{url}/batch", json={"entries": [entry()]}),
                     world.as_patient.patch(f"{url}/{created['id']}", json={"pain": {"score": 1}}),
                     world.as_patient.delete(f"{url}/{created['id']}?reason=x"),
                     nurse.patch(f"/trials/{world.trial_id}", json={"end_at": datetime.now(UTC).isoformat()})):
        assert response.status_code == 409 and response.get_json()["code"] == "trial_closed"
    run_due(app)
    with app.app_context():
        assert db.session.query(Evaluation).count() == 0


def test_moving_the_end_date_reevaluates_and_can_end_the_trial(world, app):
    nurse = world.as_nurse
    world.as_patient.post(f"/trials/{world.trial_id}/entries", json=entry(score=3))
    run_due(app)
    ended = nurse.patch(f"/trials/{world.trial_id}", json={"end_at": datetime.now(UTC).isoformat()})
    assert ended.status_code == 200 and ended.get_json()["status"] == "ended"
    assert run_due(app) == 1
    assert nurse.get(f"/trials/{world.trial_id}/evaluations/latest").get_json()["final"] is True
    too_early = nurse.patch(f"/trials/{world.trial_id}", json={"end_at": "2000-01-01T00:00:00+00:00"})
    assert too_early.status_code == 422 and "end_at" in too_early.get_json()["errors"]


def test_sync_pages_through_entries_in_order_of_change(world):
    patient, url = world.as_patient, f"/trials/{world.trial_id}/entries"
    patient.post(f"{url}/batch", json={"entries": [entry(score=s) for s in range(7)]})
    seen, cursor = [], None
    while True:
        page = patient.get(url, query_string={"limit": 3, **({"cursor": cursor} if cursor else {})}).get_json()
        seen += [e["id"] for e in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 7
    first = patient.get(url).get_json()["items"][0]
    patient.patch(f"{url}/{first['id']}", json={"pain": {"score": 10}})
    changed = patient.get(url, query_string={"updated_since": first["updated_at"]}).get_json()["items"]
    assert changed[-1]["id"] == first["id"] and changed[-1]["pain"] == {"score": 10}
