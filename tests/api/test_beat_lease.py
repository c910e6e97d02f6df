"""Only one beat schedules: the others stand by until the holder's lease runs out."""

from datetime import UTC, datetime, timedelta

from api.extensions import db
from api.models import BeatLease
from tasks.beat import LockedScheduler


class StandIn(LockedScheduler):
    """The lease logic of LockedScheduler without celery's schedule file."""

    def __init__(self, app, holder: str):  # noqa: D107 - no PersistentScheduler set-up needed here
        self.app, self.holder = app, holder


def test_one_beat_holds_the_lease_and_another_takes_over_when_it_lapses(app):
    celery = app.extensions["celery"]
    first, second = StandIn(celery, "beat-a"), StandIn(celery, "beat-b")
    assert first._hold_lease() is True
    assert second._hold_lease() is False
    assert first._hold_lease() is True  # renewing its own lease
    with app.app_context():
        db.session.query(BeatLease).update({"expires_at": datetime.now(UTC) - timedelta(seconds=1)})
        db.session.commit()
    assert second._hold_lease() is True  # the first one died: the standby takes over
    assert first._hold_lease() is False
    with app.app_context():
        assert db.session.get(BeatLease, "beat").holder == "beat-b"


def test_a_standby_beat_sends_nothing(app):
    celery = app.extensions["celery"]
    StandIn(celery, "holder")._hold_lease()
    standby = StandIn(celery, "standby")
    sent = []
    standby.apply_entry = lambda *a, **k: sent.append(a)  # would send a due task
    assert standby.tick() == app.config["BEAT_LEASE_SECONDS"] / 3
    assert sent == []
