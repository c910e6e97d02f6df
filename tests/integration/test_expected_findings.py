"""Expected findings with a real worker on PostgreSQL (issue 22): a wound concern the nurse marked expected is stored
and tells no one, while a lead out of place the same day reaches the care team at once by email and webhook."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from api.extensions import db
from api.models import Alert, Notification

from ..conftest import entry, sign_in
from .conftest import wait_for
from .receivers import SmtpServer, WebhookReceiver
from .test_notifications import _clinic, _smtp_env

pytestmark = pytest.mark.integration


def _alerts(app, trial_id) -> dict[str, tuple[str, str, int]]:
    with app.app_context():
        rows = db.session.execute(select(Alert).where(Alert.trial_id == trial_id)).scalars().all()
        found = {a.rule: (a.status, a.severity, a.id) for a in rows}
        db.session.remove()
        return found


def test_a_covered_wound_concern_stays_silent_while_a_lead_out_the_same_day_notifies(pg, workers, client_of):
    people = _clinic(pg, nurses=1, physicians=1)
    smtp, hooks = SmtpServer().start(), WebhookReceiver().start()
    try:
        pg.config["WEBHOOK_ALLOW_PRIVATE"] = True
        admin = sign_in(client_of(pg), people["admin"])
        assert admin.post("/webhooks", json={"url": hooks.url, "description": "pager"}).status_code == 201
        pg.config["WEBHOOK_ALLOW_PRIVATE"] = False
        workers.start(**_smtp_env(smtp))
        trial_id = people["trial_id"]
        nurse = sign_in(client_of(pg), next(iter(people["nurses"])))
        made = nurse.post(f"/trials/{trial_id}/expected-findings", json={
            "rule": "wound_concern", "until": (datetime.now(UTC) + timedelta(days=4)).isoformat(),
            "reason": "Redness at the exit site, seen at the dressing change"})
        assert made.status_code == 201, made.get_json()
        patient = sign_in(client_of(pg), people["patient"])
        now = datetime.now(UTC)
        since_midnight = now - now.replace(hour=0, minute=0, second=0, microsecond=0)
        first = now - min(since_midnight, timedelta(minutes=2))  # both entries on today's date (a UTC trial)
        assert patient.post(f"/trials/{trial_id}/entries",
                            json=entry(first, symptoms=["wound_redness", "wound_swelling"])).status_code == 201
        wait_for(lambda: _alerts(pg, trial_id).get("wound_concern", ("",))[0] == "expected", 30,
                 message="the worker to store the expected wound concern")

        assert patient.post(f"/trials/{trial_id}/entries",
                            json=entry(now, symptoms=["lead_dislodged"])).status_code == 201
        wait_for(lambda: smtp.recipients() >= people["nurses"] and hooks.received, 30,
                 message="the lead's messages to the nurse and the pager")
        alerts = _alerts(pg, trial_id)
        assert alerts["lead_problem"][:2] == ("open", "high")
        assert alerts["wound_concern"][:2] == ("expected", "medium")
        subjects = [m["Subject"] for _, m in smtp.messages]
        assert subjects and all("lead" in s and "wound" not in s for s in subjects)
        with pg.app_context():
            about_wound = db.session.execute(select(Notification.id).where(
                Notification.alert_id == alerts["wound_concern"][2])).all()
            db.session.remove()
        assert about_wound == []  # no email, webhook, push or digest row was ever made for it
        assert nurse.get("/alerts?status=expected").get_json()[0]["rule"] == "wound_concern"
    finally:
        smtp.stop()
        hooks.stop()
