"""Diagnostic blocks through the API on PostgreSQL with a real worker and beat: the final evaluation arrives
unasked after end_at, and the pathway reaches rfa_candidate after two positive medial branch blocks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from api.extensions import db
from api.models import BlockReminder, Evaluation, Notification, User

from ..conftest import entry, sign_in
from ..factories import ClinicFactory, PatientFactory, UserFactory
from .conftest import wait_for

pytestmark = pytest.mark.integration

TARGET = {"region": "lumbar", "side": "right", "levels": ["L3-L4", "L4-L5"]}


def _people(app) -> tuple[int, str, str]:
    with app.app_context():
        clinic = ClinicFactory()
        nurse = UserFactory(clinic=clinic, role="nurse")
        patient = PatientFactory(clinic=clinic, timezone="UTC")
        db.session.commit()
        return patient.id, patient.user.email, nurse.email


def _example(start: datetime) -> list[dict]:
    return [entry(start + timedelta(minutes=m), score) for m, score in
            ((15, 1), (30, 1), (45, 0), (60, 1), (90, 2), (120, 1))]


def _finals(app, trial_id: int) -> list[Evaluation]:
    with app.app_context():
        rows = db.session.execute(select(Evaluation).where(Evaluation.trial_id == trial_id,
                                                           Evaluation.final.is_(True))).scalars().all()
        db.session.expunge_all()
        return rows


def test_a_blocks_final_evaluation_arrives_unasked_after_its_end(pg, workers, client_of):
    patient_id, patient_email, nurse_email = _people(pg)
    nurse, patient = sign_in(client_of(pg), nurse_email), sign_in(client_of(pg), patient_email)
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3)
    ends = datetime.now(UTC) + timedelta(seconds=5)
    created = nurse.post("/trials", json={
        "patient_id": patient_id, "therapy": "medial_branch_block", "start_at": start.isoformat(),
        "end_at": ends.isoformat(), "baseline": {"pain": 8}, "target": TARGET, "agent": "lidocaine"})
    assert created.status_code == 201, created.get_json()
    trial = created.get_json()
    assert len(trial["schedule"]) == 6  # +15, +30, +45, +60 min, +2 h, +3 h
    stored = patient.post(f"/trials/{trial['id']}/entries/batch", json={"entries": _example(start)})
    assert {r["status"] for r in stored.get_json()["results"]} == {"created"}
    workers.start()

    final = wait_for(lambda: _finals(pg, trial["id"]), 300, message="the final block evaluation")
    assert len(final) == 1
    assert final[0].evaluated_at >= ends
    assert final[0].outcome == "success"
    assert final[0].metrics["relief_duration_hours"] == 1.0 and final[0].metrics["timepoints"] == 6
    latest = nurse.get(f"/trials/{trial['id']}/evaluations/latest").get_json()
    assert latest["final"] is True and latest["outcome"] == "success"
    # Beat swept the reminders as well: +15 min .. +2 h were long past (dropped, not pushed late), and the entry
    # at +2 h made the +3 h one unnecessary.
    def reminder_outcomes():
        with pg.app_context():
            rows = db.session.execute(select(BlockReminder.outcome, BlockReminder.done_at)
                                      .where(BlockReminder.trial_id == trial["id"]).order_by(BlockReminder.due_at))
            outcomes = [outcome for outcome, done_at in rows if done_at is not None]
            return outcomes if len(outcomes) == 6 else None

    assert wait_for(reminder_outcomes, 60, message="the reminder sweep") == ["stale"] * 5 + ["skipped"]


def test_the_pathway_reaches_rfa_candidate_after_two_positive_blocks(pg, workers, client_of):
    patient_id, patient_email, nurse_email = _people(pg)
    nurse, patient = sign_in(client_of(pg), nurse_email), sign_in(client_of(pg), patient_email)
    now = datetime.now(UTC).replace(microsecond=0)
    ids = []
    for start in (now - timedelta(days=15), now - timedelta(days=1)):
        created = nurse.post("/trials", json={
            "patient_id": patient_id, "therapy": "medial_branch_block", "start_at": start.isoformat(),
            "baseline": {"pain": 7}, "target": TARGET, "agent": "lidocaine"})
        assert created.status_code == 201 and created.get_json()["warnings"] == []
        ids.append(created.get_json()["id"])
        patient.post(f"/trials/{ids[-1]}/entries/batch", json={"entries": _example(start)})
    workers.start()

    def step():
        response = nurse.get(f"/patients/{patient_id}/pathway")
        assert response.status_code == 200
        row = response.get_json()["targets"][0]
        return row if row["next_step"] == "rfa_candidate" else None

    row = wait_for(step, 120, message="rfa_candidate")
    assert row["target"] == {"region": "lumbar", "side": "right"}
    assert [(b["trial_id"], b["outcome"]) for b in row["blocks"]] == [(ids[0], "success"), (ids[1], "success")]
    assert row["frequency_exceeded"] is False


def test_a_block_registered_after_its_end_is_told_once_its_diary_synced(pg, workers, client_of):
    """The worker holds the first final message of a late-registered block for the diary (30 minutes from the
    registration): the phone syncs meanwhile, and the care team is told the synced result only."""
    patient_id, patient_email, nurse_email = _people(pg)
    with pg.app_context():
        nurse_id = db.session.execute(select(User.id).where(User.email == nurse_email)).scalar_one()
    nurse, patient = sign_in(client_of(pg), nurse_email), sign_in(client_of(pg), patient_email)
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=10)
    trial = nurse.post("/trials", json={
        "patient_id": patient_id, "therapy": "medial_branch_block", "start_at": start.isoformat(),
        "end_at": (start + timedelta(hours=8)).isoformat(), "baseline": {"pain": 8}, "target": TARGET,
        "agent": "lidocaine", "care_team": [nurse_id]}).get_json()
    workers.start()
    held = wait_for(lambda: _told(pg, trial["id"]), 120, message="the held first final message")
    assert held[0].state == "pending" and "insufficient data" in held[0].subject
    patient.post(f"/trials/{trial['id']}/entries/batch", json={"entries": _example(start)})
    wait_for(lambda: [n for n in _told(pg, trial["id"]) if "positive block" in n.subject], 120,
             message="the held message replaced by the synced result")
    with pg.app_context():  # the 30 minutes pass
        db.session.execute(update(Notification).where(Notification.trial_id == trial["id"])
                           .values(next_attempt_at=datetime.now(UTC)))
        db.session.commit()
    sent = wait_for(lambda: [n for n in _told(pg, trial["id"]) if n.state == "sent"], 120, message="the message")
    assert [n.subject.split(": ", 1)[1] for n in _told(pg, trial["id"])] == ["final result positive block"]
    assert "proceed to ablation or injection" in sent[0].body


def _told(app, trial_id: int) -> list[Notification]:
    with app.app_context():
        rows = db.session.execute(select(Notification).where(
            Notification.trial_id == trial_id, Notification.cause == "evaluation")).scalars().all()
        db.session.expunge_all()
        return rows
