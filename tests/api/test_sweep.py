"""Beat's sweep (`outbox.dispatch_due`), the safety net behind the publish at commit: what it claims first."""

from __future__ import annotations

from sqlalchemy import select

import tasks.outbox
from api.extensions import db
from api.models import OutboxMessage

from ..conftest import entry


def test_a_red_flag_is_claimed_before_a_backlog_of_ordinary_checks_older_than_it(app, world, monkeypatch):
    """After an outage thousands of ordinary checks are due; a red flag stored last still goes in the first sweep."""
    patient = world.as_patient
    for score in (2, 3, 4):
        assert patient.post(f"/trials/{world.trial_id}/entries", json=entry(score=score)).status_code == 201
    assert patient.post(f"/trials/{world.trial_id}/entries", json=entry(symptoms=["new_weakness"])).status_code == 201
    monkeypatch.setattr(tasks.outbox, "FOLLOW_UPS_PER_SWEEP", 2)

    app.extensions["celery"].set_current()  # the sweep sends with this app's Celery (its embedded broker)
    with app.app_context():
        assert tasks.outbox.dispatch_due() == 2
        rows = db.session.execute(select(OutboxMessage).order_by(OutboxMessage.id)).scalars().all()
        claimed = [(row.payload["urgent"], row.dispatched_at is not None) for row in rows]
        db.session.remove()
    # The red flag and the oldest ordinary check; the two others wait for the next sweep.
    assert claimed == [(False, True), (False, False), (False, False), (True, True)]
