"""The care team's final-result messages (issue 19, points 4 and 5): a block registered after its end waits for its
diary before its first final message, a changed final result is said as a revision, and every message names the
therapy's own decisions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import update

from api.extensions import db
from api.models import Notification, Trial
from api.services.evaluations import request_final_evaluations
from tests.conftest import drain, entry
from tests.console.helpers import console_user

TARGET = {"region": "lumbar", "side": "right", "levels": ["L3-L4", "L4-L5"]}


def _finals(app) -> list[Notification]:
    with app.app_context():
        rows = db.session.query(Notification).filter_by(cause="evaluation").order_by(Notification.id).all()
        db.session.expunge_all()
        return rows


def _grace_over(app) -> None:
    """What 30 minutes do to the held message: it becomes due."""
    with app.app_context():
        db.session.execute(update(Notification).where(Notification.state == "pending")
                           .values(next_attempt_at=datetime.now(UTC) - timedelta(seconds=1)))
        db.session.commit()


def test_a_block_registered_after_its_end_waits_for_its_diary_then_says_a_revision(world, app):
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=10)
    created = world.as_nurse.post("/trials", json={
        "patient_id": world.patient_id, "therapy": "medial_branch_block", "start_at": start.isoformat(),
        "end_at": (start + timedelta(hours=8)).isoformat(), "timezone": "UTC", "baseline": {"pain": 8},
        "target": TARGET, "agent": "lidocaine", "care_team": [world.nurse_id, world.physician_id]})
    assert created.status_code == 201, created.get_json()
    trial_id = created.get_json()["id"]
    with app.app_context():
        assert request_final_evaluations() == 1  # what beat does for a trial past its end
    drain(app)  # the final evaluation before the phone synced: insufficient data
    held = _finals(app)
    assert {n.recipient_user_id for n in held} == {world.nurse_id, world.physician_id}
    with app.app_context():
        registered = db.session.get(Trial, trial_id).created_at
    for n in held:
        assert n.state == "pending" and "insufficient data" in n.subject
        assert abs(n.next_attempt_at - (registered + timedelta(minutes=30))) < timedelta(seconds=5)

    # The phone syncs within the grace: the held message is replaced, never sent; the team reads one result.
    diary = [entry(start + timedelta(minutes=m), score) for m, score in
             ((15, 1), (30, 1), (45, 0), (60, 1), (120, 1), (180, 2), (240, 6))]
    assert world.as_patient.post(f"/trials/{trial_id}/entries/batch", json={"entries": diary}).status_code == 200
    drain(app)
    waiting = _finals(app)
    assert len(waiting) == 2 and all(n.state == "pending" for n in waiting)
    assert all(n.subject.endswith("final result positive block") for n in waiting)
    _grace_over(app)
    drain(app)
    first = _finals(app)
    assert [n.state for n in first] == ["sent", "sent"]
    body = first[0].body
    assert "Medial branch block" in body and "Final result: positive block" in body and "Peak relief" in body
    assert ("Decision after the diagnostic block: proceed to ablation or injection, do not proceed or repeat the "
            "block.") in body
    assert "implant" not in body and "MEDIAL_BRANCH_BLOCK" not in body and "medial_branch_block" not in body

    # A correction then changes the final result: said as a change, from what to what, at once.
    kept = world.as_nurse.get(f"/trials/{trial_id}/entries").get_json()
    entries = kept["items"] if isinstance(kept, dict) else kept
    for item in entries[:4]:
        voided = world.as_patient.delete(f"/trials/{trial_id}/entries/{item['id']}", json={"reason": "wrong day"})
        assert voided.status_code in (200, 204), voided.get_json()
    drain(app)
    revised = [n for n in _finals(app) if n.id not in {f.id for f in first}]
    assert len(revised) == 2 and all(n.state == "sent" for n in revised)
    assert revised[0].subject.endswith("final result revised: positive block to insufficient data")
    assert revised[0].body.startswith("Final result revised: the Medial branch block")
    assert "now reads insufficient data, not positive block" in revised[0].body
    assert revised[0].data["revised_from"] == "success" and revised[0].data["outcome"] == "insufficient_data"


def test_the_trial_page_says_until_when_a_final_result_is_held(world, app):
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=10)
    created = world.as_nurse.post("/trials", json={
        "patient_id": world.patient_id, "therapy": "medial_branch_block", "start_at": start.isoformat(),
        "end_at": (start + timedelta(hours=8)).isoformat(), "timezone": "America/Chicago", "baseline": {"pain": 8},
        "target": TARGET, "agent": "lidocaine", "care_team": [world.nurse_id, world.physician_id]})
    trial_id = created.get_json()["id"]
    with app.app_context():
        request_final_evaluations()
    drain(app)
    held = _finals(app)
    assert held and all(n.state == "pending" for n in held)
    until = held[0].next_attempt_at.astimezone(ZoneInfo("America/Chicago"))
    when = until.strftime("%H:%M ") + until.tzname()
    if until.date() != datetime.now(UTC).astimezone(ZoneInfo("America/Chicago")).date():
        when = until.strftime("%d %b %Y %H:%M ") + until.tzname()
    page = console_user(app, world.physician).get(f"/console/trials/{trial_id}").get_data(as_text=True)
    assert page.count(f"held until {when} for the diary to sync") == len(held)
    assert "waiting to be sent" not in page

    _grace_over(app)  # once due, a message handed to the worker is no longer held
    drain(app)
    page = console_user(app, world.physician).get(f"/console/trials/{trial_id}").get_data(as_text=True)
    assert "held until" not in page and page.count("final result insufficient data") == len(held)


def test_a_trial_registered_before_its_end_is_told_at_once_with_its_implant_decisions(world, app):
    world.as_patient.post(f"/trials/{world.trial_id}/entries", json=entry(score=2))
    world.as_nurse.patch(f"/trials/{world.trial_id}", json={"end_at": datetime.now(UTC).isoformat()})
    drain(app)
    finals = _finals(app)
    assert finals and all(n.state == "sent" and n.data["revised_from"] is None for n in finals)
    assert "The SCS trial" in finals[0].body and "SCS trial" in finals[0].body
    assert ("proceed to a permanent spinal cord stimulator implant, no permanent spinal cord stimulator implant or "
            "repeat the trial") in finals[0].body
    assert "SCS trial " + str(world.trial_id) in finals[0].body and "scs" not in finals[0].body.split("http")[0]
