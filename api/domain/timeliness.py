"""Timely entries (docs/clinical-rules.md §2 "Timely entries"): an entry is late when the server received it more
than the therapy's `late_after` (the registry's: 24 hours, 2 for the hours-long diaries of intrathecal trials and
blocks) after the time it describes. Late entries count in the evaluation as before; the share sent in time is the
evidence of a real-time diary that paper cannot give."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from .numbers import rounded


def is_late(recorded_at: datetime, received_at: datetime | None, late_after: timedelta) -> bool:
    """Received more than `late_after` after `recorded_at`; an entry whose receipt is unknown is not late."""
    return received_at is not None and received_at - recorded_at > late_after


def timeliness(times: Iterable[tuple[datetime, datetime | None]], late_after: timedelta) -> dict[str, Any]:
    """`entries_late` and `timely_percent` (entries received in time over all of them, one decimal; null of none)
    of the (recorded_at, received_at) of a trial's non-voided entries."""
    total = late = 0
    for recorded_at, received_at in times:
        total += 1
        late += is_late(recorded_at, received_at, late_after)
    return {"entries_late": late, "timely_percent": rounded(100 * (total - late) / total, 1) if total else None}


def late_after_words(late_after: timedelta) -> str:
    """"24 hours", "2 hours": how a report says the threshold."""
    hours = late_after / timedelta(hours=1)
    return f"{hours:g} hour{'' if hours == 1 else 's'}"


def late_entry_ids(entries: Iterable[tuple[int, datetime, datetime | None]], late_after: timedelta) -> set[int]:
    """The ids of the late ones among (id, recorded_at, received_at)."""
    return {entry_id for entry_id, recorded_at, received_at in entries if is_late(recorded_at, received_at, late_after)}


def timely_sentence(total: int, late: int, late_after: timedelta) -> str:
    """"41 of 43 entries were sent within 24 hours of the time they describe.\""""
    if total == 0:
        return "No entries yet."
    one = total - late == 1
    return (f"{total - late} of {total} {'entry' if total == 1 else 'entries'} {'was' if one else 'were'} sent "
            f"within {late_after_words(late_after)} of the time {'it describes' if one else 'they describe'}.")
