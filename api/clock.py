"""The one source of "now", so that tests and operators can reason about time in one place."""

from datetime import UTC, datetime


def now() -> datetime:
    return datetime.now(UTC)
