"""A trial's status, derived from its dates and whether it was closed."""

from datetime import datetime

CLOSURES = ("decided", "cancelled")
STATUSES = ("scheduled", "active", "ended", *CLOSURES)


def trial_status(*, start_at: datetime, end_at: datetime, closure: str | None, moment: datetime) -> str:
    if closure is not None:
        return closure  # decided or cancelled
    if moment < start_at:
        return "scheduled"
    if moment < end_at:
        return "active"
    return "ended"
