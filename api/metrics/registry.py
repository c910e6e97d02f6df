"""Where this process's metrics live, and what a scrape reads.

In gunicorn and in the Celery worker, several processes update the same series; prometheus-client's
multiprocess mode (PROMETHEUS_MULTIPROC_DIR, set before prometheus_client is first imported: gunicorn.conf.py
for the API, the launcher for the worker) keeps each process's values in a file of that directory and a
scrape adds them up. Without it (tests, `flask run`), the values are this process's own.
"""

from __future__ import annotations

import os

from prometheus_client import CollectorRegistry, disable_created_metrics
from prometheus_client.multiprocess import MultiProcessCollector

# The `_created` series double what a single process shows and do not exist in multiprocess mode.
disable_created_metrics()

# The service's own metrics, kept out of prometheus_client's default registry (which also holds the
# process and platform collectors, and which a multiprocess scrape must not read).
OWN = CollectorRegistry()


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def scrape_registry(*extra) -> CollectorRegistry:
    """A registry for the exposition: every process's values (multiprocess mode) or this one's, plus `extra`
    collectors that read at scrape time."""
    registry = CollectorRegistry()
    if (path := multiprocess_dir()) is not None:
        os.makedirs(path, exist_ok=True)
        MultiProcessCollector(registry, path=path)
    else:
        registry.register(OWN)
    for collector in extra:
        registry.register(collector)
    return registry
