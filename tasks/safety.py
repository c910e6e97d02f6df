"""Alert and notification tasks."""

from celery import shared_task
from sqlalchemy.exc import OperationalError

from api.services import alerts, notifications, texting
from api.services import block_reminders as reminders


@shared_task(name="notifications.deliver", autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def deliver(notification_id: int) -> str:
    """Send one notification. Idempotent: only a pending one is sent, under a row lock."""
    return notifications.deliver(notification_id=notification_id)


@shared_task(name="alerts.escalate_due")
def escalate_due() -> int:
    """Escalate unacknowledged alerts whose time came. Idempotent: an alert escalates once."""
    return notifications.escalate_due_alerts()


@shared_task(name="alerts.missed_diaries")
def missed_diaries() -> int:
    """Raise missed-diary alerts for days that ended without an entry. Idempotent: one per trial and day."""
    return alerts.raise_missed_diaries()


@shared_task(name="notifications.evening_reminders")
def evening_reminders() -> int:
    """Push the evening reminder. Idempotent: one per trial, local day and device."""
    return notifications.send_evening_reminders()


@shared_task(name="notifications.daily_digests")
def daily_digests() -> int:
    """The nurses' digest of low alerts. Idempotent: one per nurse and UTC day."""
    return notifications.send_daily_digests()


@shared_task(name="notifications.block_reminders")
def block_reminders() -> int:
    """Push the block diary's reminders that are due. Idempotent: a reminder row is done once."""
    return reminders.send_block_reminders()


@shared_task(name="notifications.scheduled_texts")
def scheduled_texts() -> int:
    """Queue the texts whose time came (the evening reminder's follow-up). Idempotent: a row is done once."""
    return texting.send_scheduled_texts()
