"""Dispatch of due work from its rows to the broker; what the broker does not take stays due."""

import logging

from celery import shared_task
from flask import current_app

from api.extensions import db
from api.models import OutboxMessage
from api.services import diary, evaluations, notifications
from api.services.dispatch import claim_due

from . import safety
from .diary import follow_up_entry
from .evaluations import run

log = logging.getLogger(__name__)
BATCH = 100
HANDLERS = {diary.ENTRY_STORED: follow_up_entry}


@shared_task(name="outbox.dispatch_due")
def dispatch_due() -> int:
    """Send due evaluation requests (in batches), outbox messages and notifications to workers.

    Idempotent: a row sent twice is harmless. Rows are marked dispatched only when every send succeeded;
    a broker outage leaves them due.
    """
    trial_ids = evaluations.claim_due_requests()
    messages = claim_due(OutboxMessage, due=OutboxMessage.due_at, limit=1000,
                         lease_seconds=current_app.config["EVALUATION_LEASE_SECONDS"])
    notification_ids = notifications.claim_due_notifications()
    try:
        for start in range(0, len(trial_ids), BATCH):
            run.delay(trial_ids[start:start + BATCH])
        for message in messages:  # the API request that caused the work names the task's logs too
            request_id = message.payload.get("request_id")
            HANDLERS[message.topic].apply_async((message.id,), headers={"request_id": request_id})
        for notification_id in notification_ids:
            safety.deliver.delay(notification_id)
    except Exception:
        db.session.rollback()
        log.warning("broker refused dispatch; the work stays due", exc_info=True)
        raise
    db.session.commit()
    return len(trial_ids) + len(messages) + len(notification_ids)
