"""Celery settings for no loss: late acks, redelivery of work a dead worker held, one task at a time."""

import os

# The broker URL comes from the app config (CELERY_BROKER_URL, default: the embedded SQLite broker).
task_acks_late = True
task_reject_on_worker_lost = True
worker_prefetch_multiplier = 1
task_ignore_result = True
task_serializer = "json"
accept_content = ["json"]
timezone = "UTC"
enable_utc = True
worker_hijack_root_logger = False
broker_connection_retry_on_startup = True
# A worker waits for its broker for as long as it is gone, trying every second (api/extensions/celery.py:
# PromptConsumer): a worker that gave up would stop ./serve, and the care team is told by the pipeline's banner.
broker_connection_max_retries = None


def broker_transport_options(broker_url: str) -> dict:
    """Redis: a message a killed worker held goes back to the queue after the visibility timeout, which
    must be longer than any task (the longest, a batch of 100 evaluations, takes well under a second).
    The outbox re-dispatches sooner anyway (EVALUATION_LEASE_SECONDS). The embedded SQLAlchemy
    transport hands its options to create_engine, so it gets none."""
    if not broker_url.startswith(("redis://", "rediss://")):
        return {}
    # "priority": a worker takes from its queues in the order listed (the urgent one first), not in turn.
    return {"visibility_timeout": int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", "600")),
            "queue_order_strategy": "priority"}

# A publish while the broker is down must fail fast: the outbox row stays and is sent later.
task_publish_retry_policy = {"max_retries": 2, "interval_start": 0.2, "interval_step": 0.5}
broker_connection_timeout = 3
# The queue names (one per database, and its urgent queue) are set by api/extensions/celery.py.

beat_scheduler = "tasks.beat:LockedScheduler"


def beat_schedule(sweep_seconds: float) -> dict:
    """Sweeps, each idempotent; one that waited past its next run is dropped, as the next one does its work."""

    def every(task: str, seconds: float) -> dict:
        return {"task": task, "schedule": seconds, "options": {"expires": seconds * 2}}

    return {
        "dispatch-due-evaluations": every("outbox.dispatch_due", sweep_seconds),
        "request-final-evaluations": every("evaluations.request_finals", sweep_seconds * 6),
        "refresh-active-evaluations": every("evaluations.request_daily_refresh", 3600),
        "escalate-alerts": every("alerts.escalate_due", sweep_seconds),
        "missed-diaries": every("alerts.missed_diaries", 3600),
        "evening-reminders": every("notifications.evening_reminders", 300),
        # Block diaries expect an entry every 15 minutes at first: swept as often as other due times.
        "block-reminders": every("notifications.block_reminders", sweep_seconds),
        "daily-digests": every("notifications.daily_digests", 3600),
        # The evening reminder's text follow-up (two hours later), and follow-ups held over quiet hours.
        "scheduled-texts": every("notifications.scheduled_texts", sweep_seconds * 6),
    }
