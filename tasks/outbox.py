"""Dispatch of due work from its rows to the broker; what the broker does not take stays due."""

import logging

from celery import shared_task

from api.extensions import db
from api.services import evaluations

from .evaluations import run

log = logging.getLogger(__name__)
BATCH = 100


@shared_task(name="outbox.dispatch_due")
def dispatch_due() -> int:
    """Send due evaluation requests to workers in batches. Idempotent: a request sent twice is harmless.

    The rows are marked dispatched only when every send succeeded; a broker outage leaves them due.
    """
    trial_ids = evaluations.claim_due_requests()
    try:
        for start in range(0, len(trial_ids), BATCH):
            run.delay(trial_ids[start:start + BATCH])
    except Exception:
        db.session.rollback()
        log.warning("broker refused evaluation dispatch; requests stay due", exc_info=True)
        raise
    db.session.commit()
    return len(trial_ids)
