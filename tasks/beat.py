"""A beat scheduler that runs only while it holds a lease row, so a second beat stands by harmlessly."""

from __future__ import annotations

import logging
import os
import socket
import uuid
from datetime import timedelta

from celery.beat import PersistentScheduler
from sqlalchemy import update

from api.clock import now
from api.extensions import db
from api.models import BeatLease

log = logging.getLogger(__name__)


class LockedScheduler(PersistentScheduler):
    holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.app.flask_app.config["BEAT_LEASE_SECONDS"])

    def tick(self, *args, **kwargs):
        renew_every = self.lease.total_seconds() / 3
        if not self._hold_lease():
            return renew_every
        return min(super().tick(*args, **kwargs), renew_every)

    def _hold_lease(self) -> bool:
        with self.app.flask_app.app_context():
            moment = now()
            try:
                taken = db.session.execute(
                    update(BeatLease)
                    .where(BeatLease.name == "beat")
                    .where((BeatLease.holder == self.holder) | (BeatLease.expires_at < moment))
                    .values(holder=self.holder, expires_at=moment + self.lease)
                ).rowcount
                if not taken and db.session.get(BeatLease, "beat") is None:
                    db.session.add(BeatLease(name="beat", holder=self.holder, expires_at=moment + self.lease))
                    taken = 1
                db.session.commit()
            except Exception:
                db.session.rollback()
                log.warning("beat lease could not be taken; not scheduling", exc_info=True)
                return False
            finally:
                db.session.remove()
        return bool(taken)
