"""Diary tasks."""

from celery import shared_task
from sqlalchemy.exc import IntegrityError, OperationalError

from api.services import diary


@shared_task(name=diary.ENTRY_STORED, autoretry_for=(OperationalError, IntegrityError), retry_backoff=True,
             max_retries=5)
def follow_up_entry(message_ids: int | list[int]) -> int:
    """Safety rules and an evaluation request for stored entry versions (one, from the sweep; those stored at one
    moment, from the publisher), each in its own transaction. Idempotent: the outbox row goes with the alerts and
    the request it made, and a retry skips the rows done already."""
    ids = message_ids if isinstance(message_ids, list) else [message_ids]
    return sum(diary.follow_up_entry(message_id=message_id) for message_id in ids)
