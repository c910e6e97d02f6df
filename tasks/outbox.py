"""Dispatch of due work from its rows to the broker; what the broker does not take stays due."""

import logging
from functools import partial

from celery import shared_task
from flask import current_app

from api.extensions import db
from api.models import EvaluationRequest, Notification, OutboxMessage
from api.services import diary, evaluations, notifications
from api.services.dispatch import claim_due, release, sweep_grace

from . import safety
from .diary import follow_up_entry
from .evaluations import run

log = logging.getLogger(__name__)
BATCH = 100
FOLLOW_UPS_PER_SWEEP = 1000
FOLLOW_UPS_PER_MESSAGE = 20  # as the publisher gathers them: a publish costs as much as the check itself
HANDLERS = {diary.ENTRY_STORED: follow_up_entry}


def claim_due_follow_ups() -> list[OutboxMessage]:
    """Due outbox messages, red flags' first: after an outage thousands of ordinary entries' checks are due, and a
    red flag stored during it must go in the first sweep, not behind them in order of time (FOLLOW_UPS_PER_SWEEP
    a sweep)."""
    claim = partial(claim_due, OutboxMessage, due=OutboxMessage.due_at, grace=sweep_grace(),
                    lease_seconds=current_app.config["EVALUATION_LEASE_SECONDS"])
    urgent = claim(limit=FOLLOW_UPS_PER_SWEEP, where=(OutboxMessage.payload["urgent"].as_boolean().is_(True),))
    if len(urgent) < FOLLOW_UPS_PER_SWEEP:
        urgent += claim(limit=FOLLOW_UPS_PER_SWEEP - len(urgent))
    return urgent


@shared_task(name="outbox.dispatch_due")
def dispatch_due() -> int:
    """Send due evaluation requests (in batches), outbox messages and notifications to workers: the safety net
    behind the publish made when each outbox message or alert notification was committed (dispatch.at_once).

    The claims are committed before anything is sent: a worker takes its row with SKIP LOCKED and skips one that
    is locked, so a message that reached a worker while this sweep still held its rows' locks was done as
    nothing, and its row waited out the lease (EVALUATION_LEASE_SECONDS, 120 s) to be sent again. That is what
    made red flags 2.5 to 4.5 minutes late after a Redis restart (issue 24): the sweep that follows an outage
    claims a thousand rows, sends the urgent ones first and committed only after the last. What the broker does
    not take is released at once (due again at the next sweep). Idempotent: a row sent twice is harmless.
    """
    trial_ids = evaluations.claim_due_requests()
    messages = claim_due_follow_ups()
    notification_ids = notifications.claim_due_notifications()
    urgent_queue = current_app.extensions["publisher"].urgent_queue
    alerting = notifications.urgent_notifications(notification_ids)
    # Every send, planned while the claim is open: (task, argument, options, the claim released if it is refused).
    sends: list[tuple] = []
    ordinary: dict[str, list[tuple[int, str | None]]] = {}
    for message in messages:  # the API request that caused the work names the task's logs too
        request_id = message.payload.get("request_id")
        if message.payload.get("urgent"):  # a red flag's check through the urgent queue, alone, as published
            options = {"headers": {"request_id": request_id}, "queue": urgent_queue}
            sends.append((HANDLERS[message.topic], message.id, options, (OutboxMessage.id, [message.id])))
        else:
            ordinary.setdefault(message.topic, []).append((message.id, request_id))
    for notification_id in notification_ids:  # an alert's messages never wait behind ordinary checks either
        sends.append((safety.deliver, notification_id, {"queue": urgent_queue} if notification_id in alerting else {},
                      (Notification.id, [notification_id])))
    for start in range(0, len(trial_ids), BATCH):
        batch = trial_ids[start:start + BATCH]
        sends.append((run, batch, {}, (EvaluationRequest.trial_id, batch)))
    for topic, waiting in ordinary.items():
        for start in range(0, len(waiting), FOLLOW_UPS_PER_MESSAGE):
            batch = waiting[start:start + FOLLOW_UPS_PER_MESSAGE]
            request_ids = {request_id for _, request_id in batch}
            ids = [message_id for message_id, _ in batch]
            sends.append((HANDLERS[topic], ids, {"headers": {"request_id": request_ids.pop() if len(request_ids) == 1
                                                             else None}}, (OutboxMessage.id, ids)))
    db.session.commit()
    for sent, (task, argument, options, _) in enumerate(sends):
        try:
            task.apply_async((argument,), **options)
        except Exception:
            log.warning("broker refused dispatch; the work not sent is due again", exc_info=True)
            release([claimed for _, _, _, claimed in sends[sent:]])
            raise
    return len(trial_ids) + len(messages) + len(notification_ids)
