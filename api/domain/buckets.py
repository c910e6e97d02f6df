"""The trial's time buckets: local calendar days in the trial's timezone, or hours from the start."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class Bucket:
    index: int
    start: datetime
    end: datetime
    label: str  # the local date (day buckets) or "hour N" (hour buckets)


class Calendar:
    """Maps instants to bucket indexes for one trial; index 0 holds `start_at`."""

    def __init__(self, *, kind: str, start_at: datetime, timezone: str):
        if start_at.tzinfo is None:
            raise ValueError("start_at must carry a UTC offset")
        self.kind = kind
        self.start_at = start_at
        self.zone = ZoneInfo(timezone)
        self.first_date = start_at.astimezone(self.zone).date()

    def local_date(self, instant: datetime) -> date:
        return instant.astimezone(self.zone).date()

    def index_of(self, instant: datetime) -> int:
        if self.kind == "day":
            return (self.local_date(instant) - self.first_date).days
        return (instant - self.start_at) // HOUR

    def bucket(self, index: int) -> Bucket:
        if self.kind == "day":
            day = self.first_date + timedelta(days=index)
            return Bucket(index, self._midnight(day), self._midnight(day + timedelta(days=1)), day.isoformat())
        start = self.start_at + index * HOUR
        return Bucket(index, start, start + HOUR, f"hour {index}")

    def begun_before(self, instant: datetime) -> int:
        """How many buckets (from index 0) begin strictly before `instant`."""
        if instant <= self.start_at:
            return 0
        if self.kind == "day":
            last = self.index_of(instant)
            if self.bucket(last).start >= instant:
                last -= 1
            return last + 1
        return -((self.start_at - instant) // HOUR)

    def _midnight(self, day: date) -> datetime:
        # As a UTC instant: arithmetic and comparisons between aware datetimes of one zone use wall time.
        return datetime.combine(day, time(0), tzinfo=self.zone).astimezone(UTC)
