"""A Redis without persistence restarts empty: the next red flag still reaches the care team within seconds.

What made them late (issue 24) was not the broker losing its bindings (tasks are published to the anonymous
exchange, straight to their queue's list) but the sweep that follows an outage: it claimed a thousand rows, sent
the urgent ones first and committed its claims after the last send, so a worker that took a red flag's message at
once found the row locked by the sweep, skipped it (SKIP LOCKED), and the row waited out its 120 s lease.

Issue 24: after such a restart, red flags came 2.5 to 4.5 minutes late, when their rows' leases ran out and the
sweeps sent them again. The Redis here is this test's own `redis-server` process, stopped and started again on its
port (the machine's Redis is never touched); the worker (with beat) is a real process; the API is the in-process
app, publishing from its thread as gunicorn's workers do; mail goes to a local aiosmtpd server. The leases are
production's (120 s), so only work that reaches the worker at once can meet the bound.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from celery.signals import before_task_publish
from sqlalchemy import create_engine, select, text, update

from api.extensions import db
from api.models import Alert, OutboxMessage
from tasks.outbox import dispatch_due

from ..conftest import entry, sign_in
from ..factories import ClinicFactory, PatientFactory, TrialFactory, UserFactory
from .conftest import PrivateRedis, app_from_environment, app_settings, free_port, wait_for
from .receivers import SmtpServer

pytestmark = pytest.mark.integration

PRODUCTION_LEASES = {"EVALUATION_LEASE_SECONDS": "120", "NOTIFICATION_LEASE_SECONDS": "120"}
# Far more than the seconds the care team waits, far less than the leases after which the sweeps would resend.
BOUND_SECONDS = 45


def _post_critical_entry(app, client, patient: str, trial_id: int, nurse: str, smtp: SmtpServer):
    """Post a new weakness; the answer is a wait for its alert and its email to the nurse."""
    with app.app_context():
        alerts_before = len(db.session.execute(select(Alert.id).where(Alert.trial_id == trial_id)).scalars().all())
        db.session.remove()
    mails_before = sum(nurse in tos for tos, _ in smtp.messages)
    phone = sign_in(client, patient)
    assert phone.post(f"/trials/{trial_id}/entries", json=entry(symptoms=["new_weakness"])).status_code == 201

    def alert_raised() -> bool:
        with app.app_context():
            alerts = db.session.execute(select(Alert.id).where(Alert.trial_id == trial_id)).scalars().all()
            db.session.remove()
        return len(alerts) > alerts_before

    def told() -> None:
        wait_for(alert_raised, BOUND_SECONDS, interval=0.1, message="the alert")
        wait_for(lambda: sum(nurse in tos for tos, _ in smtp.messages) > mails_before, BOUND_SECONDS, interval=0.1,
                 message="the alert's email")

    return told


def test_a_red_flag_after_redis_restarted_empty_reaches_the_nurse_at_once(pg, pg_url, workers, client_of, celery_of,
                                                                         tmp_path):
    private_redis = PrivateRedis(tmp_path)
    private_redis.start()
    smtp = SmtpServer().start()
    settings = {**app_settings(pg_url, private_redis.url, tmp_path), **PRODUCTION_LEASES}
    api = app_from_environment(settings)  # the API's process, publishing to this test's Redis
    try:
        with api.app_context():
            clinic = ClinicFactory()
            nurse = UserFactory(clinic=clinic, role="nurse")
            # Two patients: a second new weakness on the same trial would add to the first alert, not raise one.
            trials = [TrialFactory(patient=PatientFactory(clinic=clinic, timezone="UTC"), care_team=[nurse],
                                   timezone="UTC") for _ in range(3)]
            db.session.commit()
            before, during, after = ((trial.patient.user.email, trial.id, nurse.email) for trial in trials)
            db.session.remove()
        worker = workers.start(broker=private_redis.url, SMTP_HOST="127.0.0.1", SMTP_PORT=str(smtp.port),
                               SMTP_STARTTLS="false", **PRODUCTION_LEASES)
        client = client_of(api)
        # Before the restart: the publisher and the worker have declared their queues and exchanges.
        _post_critical_entry(api, client, *before, smtp)()

        private_redis.stop()
        # While Redis is down the entry is stored (201); its publish fails, and the sweep sends it once Redis is back.
        told_during = _post_critical_entry(api, client, *during, smtp)
        private_redis.start()  # empty: no queue, no binding, nothing of before
        told_during()

        _post_critical_entry(api, client, *after, smtp)()
        assert worker.process.poll() is None
        # The worker tried Redis again every second, not after kombu's growing back-off (2, 4, 6 ... 30 s).
        retries = re.findall(r"Trying again in ([\d.]+) seconds?", worker.log.read_text())
        assert retries and set(retries) == {"1.00"}
    finally:
        smtp.stop()
        private_redis.stop()


@pytest.fixture
def celery_of():
    """Make an app's Celery the one shared tasks send with (each app made in a test takes that place): `sweep_of(app)`
    runs the sweep there. The integration apps' Celery is restored afterwards."""
    from celery import current_app

    previous = current_app._get_current_object()

    def sweep_of(app) -> int:
        app.extensions["celery"].set_current()
        with app.app_context():
            return dispatch_due()

    yield sweep_of
    previous.set_current()
    previous.set_default()


def _red_flag_waiting_for_the_sweep(app, client, people: tuple) -> int:
    """A stored critical entry whose publish never reached a worker: its outbox row, due for a minute."""
    patient, trial_id, _ = people
    assert sign_in(client, patient).post(f"/trials/{trial_id}/entries",
                                         json=entry(symptoms=["new_weakness"])).status_code == 201
    with app.app_context():
        db.session.execute(update(OutboxMessage).values(due_at=datetime.now(UTC) - timedelta(minutes=1)))
        db.session.commit()
        message_id = db.session.execute(select(OutboxMessage.id)).scalar_one()
        db.session.remove()
    return message_id


def _people(app) -> tuple:
    with app.app_context():
        clinic = ClinicFactory()
        nurse = UserFactory(clinic=clinic, role="nurse")
        trial = TrialFactory(patient=PatientFactory(clinic=clinic, timezone="UTC"), care_team=[nurse], timezone="UTC")
        db.session.commit()
        people = (trial.patient.user.email, trial.id, nurse.email)
        db.session.remove()
    return people


def test_a_worker_can_take_the_row_of_every_message_the_sweep_sends(pg, pg_url, client_of, celery_of):
    """When a sweep's message can reach a worker, its row is claimed (committed) and not locked: the worker's
    SKIP LOCKED finds it."""
    message_id = _red_flag_waiting_for_the_sweep(pg, client_of(pg), _people(pg))
    worker_view = create_engine(pg_url.replace("postgresql://", "postgresql+psycopg://"))
    seen: list[tuple] = []

    def as_a_worker_would(sender=None, body=None, **_):
        if sender == "diary.entry_stored":
            with worker_view.connect() as connection:
                seen.append(connection.execute(text(
                    "SELECT id, dispatched_at IS NOT NULL FROM outbox_messages WHERE id = :id "
                    "FOR UPDATE SKIP LOCKED"), {"id": message_id}).one_or_none())
                connection.rollback()

    before_task_publish.connect(as_a_worker_would)
    try:
        assert celery_of(pg) >= 1
    finally:
        before_task_publish.disconnect(as_a_worker_would)
        worker_view.dispose()
    assert seen == [(message_id, True)]


def test_what_the_broker_refuses_is_due_again_at_once(pg, pg_url, client_of, celery_of, tmp_path):
    message_id = _red_flag_waiting_for_the_sweep(pg, client_of(pg), _people(pg))
    nowhere = app_from_environment(app_settings(pg_url, f"redis://127.0.0.1:{free_port()}/0", tmp_path))
    with pytest.raises(Exception, match="(?i)connect"):
        celery_of(nowhere)
    with pg.app_context():
        row = db.session.get(OutboxMessage, message_id)
        assert row is not None and row.dispatched_at is None
