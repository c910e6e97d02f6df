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
# Longer than any task (the longest, a sweep batch, takes seconds); a message a killed worker held
# goes back to the queue after this. The outbox re-dispatches sooner anyway (EVALUATION_LEASE_SECONDS).
broker_transport_options = {
    "visibility_timeout": int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", "600")),
    "polling_interval": 1,
}
# A publish while the broker is down must fail fast: the outbox row stays and is sent later.
task_publish_retry_policy = {"max_retries": 2, "interval_start": 0.2, "interval_step": 0.5}
broker_connection_timeout = 3
task_default_queue = "trial-diary"

beat_scheduler = "tasks.beat:LockedScheduler"


def beat_schedule(sweep_seconds: float) -> dict:
    return {
        "dispatch-due-evaluations": {"task": "outbox.dispatch_due", "schedule": sweep_seconds},
        "request-final-evaluations": {"task": "evaluations.request_finals", "schedule": max(sweep_seconds, 30)},
        "refresh-active-evaluations": {"task": "evaluations.request_daily_refresh", "schedule": 3600},
    }
