"""Evaluations computed by real Celery workers from entries posted over HTTP, through crashes and outages."""

from __future__ import annotations

import time as clock
from datetime import UTC, datetime, time, timedelta

import psycopg
import pytest
from sqlalchemy import func, select

from api.extensions import db
from api.models import Evaluation, EvaluationRequest, OutboxMessage

from .. import worked_example
from ..conftest import entry, sign_in
from ..factories import ClinicFactory, PatientFactory, TrialFactory, UserFactory
from .conftest import PrivateRedis, wait_for

pytestmark = pytest.mark.integration


def _trial(app, **overrides) -> tuple[int, str, str]:
    """A UTC-timezone SCS trial whose implant day was four days ago; returns (trial id, patient, nurse)."""
    with app.app_context():
        clinic = ClinicFactory()
        nurse = UserFactory(clinic=clinic, role="nurse")
        patient = PatientFactory(clinic=clinic, timezone="UTC")
        implant_day = datetime.combine(datetime.now(UTC).date() - timedelta(days=4), time(10), tzinfo=UTC)
        fields = {"start_at": implant_day, "end_at": implant_day + timedelta(days=7), "timezone": "UTC",
                  "baseline": {"pain": 8, "mme": 20, "odi": 50}, **overrides}
        trial = TrialFactory(patient=patient, care_team=[nurse], **fields)
        db.session.commit()
        return trial.id, patient.user.email, nurse.email


def _day(days_ago: int, hour: int = 12) -> datetime:
    return datetime.combine(datetime.now(UTC).date() - timedelta(days=days_ago), time(hour), tzinfo=UTC)


def three_good_days() -> list[dict]:
    """Entries on the three days after the implant day, dated when the test runs (never at import)."""
    return [
        entry(_day(3), 4, medications=[{"name": "Oxycodone", "dose": 10, "unit": "mg", "route": "oral"}]),
        entry(_day(2, 9), 3),
        entry(_day(2, 20), 5),
        entry(_day(1), 2, function={"odi": 35}),
    ]


def _evaluations(app, trial_id: int) -> list[Evaluation]:
    with app.app_context():
        rows = db.session.execute(select(Evaluation).where(Evaluation.trial_id == trial_id)
                                  .order_by(Evaluation.id)).scalars().all()
        db.session.expunge_all()
        return rows


def test_entries_posted_over_http_produce_an_interim_evaluation_by_the_rules(pg, workers, client_of):
    trial_id, patient_email, nurse_email = _trial(pg)
    workers.start()
    patient = sign_in(client_of(pg), patient_email)
    for body in three_good_days():
        assert patient.post(f"/trials/{trial_id}/entries", json=body).status_code == 201

    nurse = sign_in(client_of(pg), nurse_email)
    latest = wait_for(lambda: (r := nurse.get(f"/trials/{trial_id}/evaluations/latest")).status_code == 200
                      and r.get_json(), 60, message="an interim evaluation")
    assert latest["final"] is False
    metrics = latest["metrics"]
    # Buckets: 4 days ago is the implant day (left out); 3, 2 and 1 days ago hold data; today is open
    # and empty, so it does not count. Pain 4, mean(3, 5) = 4, 2: trial pain 10/3, relief 58.3 %.
    assert (metrics["data_buckets"], metrics["counted_buckets"], metrics["compliance"]) == (3, 3, 1.0)
    assert metrics["trial_pain"] == pytest.approx(10 / 3)
    assert metrics["pain_relief_percent"] == 58.3
    assert metrics["trial_mme"] == 5.0  # 10 mg oxycodone x 1.5 on one day of three
    assert metrics["latest_odi"] == 35
    assert {c["name"]: c["status"] for c in latest["criteria"]} == {
        "pain_relief": "met", "function": "met", "analgesic_use": "met", "side_effects": "met",
        "patient_global_impression": "not_assessed"}
    assert latest["outcome"] == "success"
    # The burst of four entries was coalesced: one evaluation, not four.
    assert len(_evaluations(pg, trial_id)) == 1


def test_a_trial_whose_end_passes_gets_a_final_evaluation_from_beat_alone(pg, workers, client_of):
    ends = datetime.now(UTC) + timedelta(seconds=4)
    trial_id, patient_email, _ = _trial(pg, end_at=ends)
    patient = sign_in(client_of(pg), patient_email)
    for body in three_good_days():
        assert patient.post(f"/trials/{trial_id}/entries", json=body).status_code == 201
    workers.start()

    final = wait_for(lambda: [e for e in _evaluations(pg, trial_id) if e.final], 90, message="a final evaluation")
    assert len(final) == 1
    assert final[0].evaluated_at >= ends
    assert final[0].outcome == "success"
    with pg.app_context():
        assert db.session.scalar(select(func.count()).select_from(EvaluationRequest)) == 0


def test_a_worker_killed_mid_evaluation_loses_nothing_and_doubles_nothing(pg, pg_url, workers, client_of):
    trial_id, patient_email, _ = _trial(pg)
    first = workers.start("doomed")
    # Hold the trial's row so that the worker's evaluation blocks half-way, inside its transaction.
    blocker = psycopg.connect(pg_url)
    # (NO KEY UPDATE, as the worker takes it: the diary inserts' foreign-key checks still pass.)
    blocker.execute("SELECT id FROM trials WHERE id = %s FOR NO KEY UPDATE", (trial_id,))
    patient = sign_in(client_of(pg), patient_email)
    for body in three_good_days():
        assert patient.post(f"/trials/{trial_id}/entries", json=body).status_code == 201

    monitor = psycopg.connect(pg_url, autocommit=True)
    wait_for(lambda: monitor.execute(
        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
    ).fetchone()[0] > 0, 60, message="the worker to be mid-evaluation")
    first.kill()
    blocker.rollback()
    blocker.close()
    assert _evaluations(pg, trial_id) == []

    workers.start("successor")
    wait_for(lambda: _evaluations(pg, trial_id), 60, message="the evaluation after the crash")
    # Let the lease expire and the sweep run again: a re-dispatch must not store the result twice.
    wait_for(lambda: monitor.execute("SELECT count(*) FROM evaluation_requests").fetchone()[0] == 0, 30,
             message="the request to be done")
    clock.sleep(6)  # longer than the lease (4 s): any re-dispatch has happened by now
    evaluations = _evaluations(pg, trial_id)
    assert len(evaluations) == 1
    assert evaluations[0].metrics["data_buckets"] == 3
    monitor.close()


def test_with_redis_down_diary_writes_succeed_and_evaluations_arrive_after(pg, workers, client_of, tmp_path):
    broker = PrivateRedis(tmp_path)
    broker.start()
    try:
        trial_id, patient_email, _ = _trial(pg)
        workers.start("outage", broker=broker.url)
        broker.stop()
        patient = sign_in(client_of(pg), patient_email)
        for body in three_good_days():
            assert patient.post(f"/trials/{trial_id}/entries", json=body).status_code == 201
        with pg.app_context():  # the follow-up work (safety rules, evaluation request) is committed with them
            assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 4
        clock.sleep(3)  # several sweeps, all of which fail to reach the broker
        assert _evaluations(pg, trial_id) == []

        broker.start()
        evaluations = wait_for(lambda: _evaluations(pg, trial_id), 120, message="the evaluation after the outage")
        assert evaluations[0].metrics["data_buckets"] == 3
    finally:
        broker.stop()


def test_the_worked_example_through_the_api_and_a_real_worker(pg, workers, client_of):
    _, patient_email, nurse_email = _trial(pg)
    with pg.app_context():
        from api.models import Patient, User

        patient_id = db.session.execute(
            select(Patient.id).join(User, Patient.user_id == User.id).where(User.email == patient_email)).scalar_one()
    nurse, patient = sign_in(client_of(pg), nurse_email), sign_in(client_of(pg), patient_email)
    trial = nurse.post("/trials", json={**worked_example.TRIAL, "patient_id": patient_id}).get_json()
    stored = patient.post(f"/trials/{trial['id']}/entries/batch", json={"entries": worked_example.entries()})
    assert {r["status"] for r in stored.get_json()["results"]} == {"created"}
    workers.start()
    # Past its end already: beat asks for the final evaluation without anyone calling the API.
    final = wait_for(lambda: (r := nurse.get(f"/trials/{trial['id']}/evaluations/latest")).status_code == 200
                     and r.get_json()["final"] and r.get_json(), 60, message="the final evaluation")
    worked_example.assert_matches(final)
