"""Evaluation tasks."""

from celery import shared_task
from sqlalchemy.exc import OperationalError

from api.services import evaluations


@shared_task(name="evaluations.run", autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def run(trial_ids: list[int]) -> int:
    """Evaluate these trials now. Idempotent: a result equal to the latest is not stored again."""
    return len(evaluations.run_evaluations(trial_ids=trial_ids))


@shared_task(name="evaluations.request_finals")
def request_finals() -> int:
    """Ask for the final evaluation of trials past their end. Idempotent: asks once per trial."""
    return evaluations.request_final_evaluations()


@shared_task(name="evaluations.request_daily_refresh")
def request_daily_refresh() -> int:
    """Ask for an interim evaluation of every active trial. Idempotent: requests coalesce per trial."""
    return evaluations.request_active_refresh()
