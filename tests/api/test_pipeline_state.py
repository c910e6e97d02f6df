"""GET /monitoring/pipeline and the console's banner: late when no beat holds its lease or due work waited too long."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from api.extensions import db
from api.models import BeatLease, Notification, OutboxMessage
from api.services.pipeline import DELAYS

from ..conftest import entry, sign_in
from ..console.helpers import console_user
from .test_metrics import TOKEN, scrape, value

BANNER = "New alerts may be delayed."


def _beat(app, *, running: bool) -> None:
    with app.app_context():
        expires = datetime.now(UTC) + timedelta(seconds=30 if running else -1)
        db.session.merge(BeatLease(name="beat", holder="test:1:beat", expires_at=expires))
        db.session.commit()


def _age_everything(app, seconds: float) -> None:
    """Every outbox row and notification made `seconds` earlier: as if nothing had picked them up since."""
    with app.app_context():
        back = datetime.now(UTC) - timedelta(seconds=seconds)
        db.session.execute(update(OutboxMessage).values(due_at=back, created_at=back))
        db.session.execute(update(Notification).values(created_at=back, next_attempt_at=back))
        db.session.commit()


def test_the_pipeline_is_late_without_beat_or_with_work_waiting_past_the_threshold(app, world):
    nurse = sign_in(world.client, world.nurse)
    state = nurse.get("/monitoring/pipeline").get_json()
    assert state["late"] and state["delays"] == ["beat_stopped"] and not state["beat_running"]
    assert state["late_after_seconds"] == 120

    _beat(app, running=True)
    state = nurse.get("/monitoring/pipeline").get_json()
    assert not state["late"] and state["delays"] == [] and state["beat_running"]

    # A red-flag entry nobody followed up yet: due, but not for long.
    assert world.as_patient.post(f"/trials/{world.trial_id}/entries",
                                 json=entry(symptoms=["new_weakness"])).status_code == 201
    state = nurse.get("/monitoring/pipeline").get_json()
    assert not state["late"] and state["oldest_entry_check_due_at"] is not None
    _age_everything(app, 121)
    assert nurse.get("/monitoring/pipeline").get_json()["delays"] == ["entry_checks_waiting"]

    # Its safety check ran and raised a critical alert whose notifications nobody sent.
    from api.services import diary

    with app.app_context():
        message_id = db.session.query(OutboxMessage.id).scalar()
        assert diary.follow_up_entry(message_id=message_id) == 1
    _age_everything(app, 121)
    state = nurse.get("/monitoring/pipeline").get_json()
    assert state["delays"] == ["alert_notifications_waiting"] and state["oldest_entry_check_due_at"] is None

    # And the console says so in the care team's words, on the worklist, the alerts page and their fragment.
    console = console_user(app, world.nurse)
    for page in ("/console/", "/console/alerts", "/console/live/pipeline"):
        html = console.get(page).get_data(as_text=True)
        assert BANNER in html and "call patients who report symptoms" in html, page
    with app.app_context():
        db.session.execute(update(Notification).values(state="sent"))
        db.session.commit()
    assert BANNER not in console.get("/console/").get_data(as_text=True)
    assert console.get("/console/live/pipeline").get_data(as_text=True).strip() == ""
    _beat(app, running=False)
    assert "is not running" in console.get("/console/live/pipeline").get_data(as_text=True)


def test_patients_cannot_read_the_pipeline_state(world):
    assert world.as_patient.get("/monitoring/pipeline").status_code == 403


def test_the_metrics_say_late_when_the_banner_does_and_why(app, world, client, monkeypatch):
    """`trial_diary_pipeline_late` and its reasons are the banner's reading, for an operator's alerting rule."""
    monkeypatch.setitem(app.config, "METRICS_TOKEN", TOKEN)
    nurse = sign_in(world.client, world.nurse)

    def late_gauges() -> dict:
        samples = scrape(client)
        state = nurse.get("/monitoring/pipeline").get_json()
        assert value(samples, "trial_diary_pipeline_late") == (1 if state["late"] else 0)
        assert value(samples, "trial_diary_pipeline_late_after_seconds") == state["late_after_seconds"] == 120
        reasons = {reason for reason in DELAYS
                   if value(samples, "trial_diary_pipeline_late_reason", reason=reason) == 1}
        assert reasons == set(state["delays"])
        return samples

    samples = late_gauges()
    assert value(samples, "trial_diary_pipeline_late_reason", reason="beat_stopped") == 1
    assert value(samples, "trial_diary_beat_lease_held") == 0
    _beat(app, running=True)
    assert value(late_gauges(), "trial_diary_pipeline_late") == 0

    assert world.as_patient.post(f"/trials/{world.trial_id}/entries",
                                 json=entry(symptoms=["new_weakness"])).status_code == 201
    assert 0 <= value(late_gauges(), "trial_diary_outbox_oldest_due_seconds") < 60
    _age_everything(app, 121)
    samples = late_gauges()
    assert value(samples, "trial_diary_pipeline_late_reason", reason="entry_checks_waiting") == 1
    assert 121 <= value(samples, "trial_diary_outbox_oldest_due_seconds") < 180

    from api.services import diary

    with app.app_context():  # its critical alert's notifications, never sent
        assert diary.follow_up_entry(message_id=db.session.query(OutboxMessage.id).scalar()) == 1
    _age_everything(app, 121)
    samples = late_gauges()
    assert value(samples, "trial_diary_pipeline_late_reason", reason="alert_notifications_waiting") == 1
    assert value(samples, "trial_diary_outbox_oldest_due_seconds") == 0
    assert 121 <= value(samples, "trial_diary_alert_notifications_oldest_pending_seconds") < 180

    with app.app_context():
        db.session.execute(update(Notification).values(state="sent"))
        db.session.commit()
    samples = late_gauges()
    assert value(samples, "trial_diary_pipeline_late") == 0
    assert value(samples, "trial_diary_alert_notifications_oldest_pending_seconds") == 0
