"""Diary tasks."""

from celery import shared_task
from sqlalchemy.exc import IntegrityError, OperationalError

from api.services import diary


@shared_task(name=diary.ENTRY_STORED, autoretry_for=(OperationalError, IntegrityError), retry_backoff=True,
             max_retries=5)
def follow_up_entry(message_id: int) -> int:
    """Safety rules and an evaluation request for one stored entry version. Idempotent: the outbox row goes
    with the alerts and the request it made."""
    return diary.follow_up_entry(message_id=message_id)
