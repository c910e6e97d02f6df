"""Counts of text messages: sent (accepted by the provider) and failed by the worker; delivered, undelivered and
failed as the provider's status callbacks report them to the API; patients opting out and back in.

Counters rather than figures read from the database at scrape time: sent texts are history, which a scrape must
not read (see pipeline.py). Each process counts what it did, so the worker's exporter has `sent` and `failed`,
and the API's /metrics the callbacks' and keywords' events: docs/operations.md says which alert reads which.
"""

from __future__ import annotations

from prometheus_client import Counter

from .registry import OWN

EVENTS = ("sent", "delivered", "undelivered", "failed", "opted_out", "opted_in")
TEXTS = Counter("trial_diary_sms", "Text messages by event: sent (the provider accepted it), delivered, "
                "undelivered, failed, and patients who opted out (STOP) or back in (START).", ["event"],
                registry=OWN)


def count(event: str) -> None:
    TEXTS.labels(event).inc()
