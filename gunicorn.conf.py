"""gunicorn settings: read by `gunicorn wsgi:app` from the working directory (./serve and production alike).

They set up prometheus-client's multiprocess mode, so that /metrics, whichever worker answers it, counts
every worker's requests: each worker writes its values to files in PROMETHEUS_MULTIPROC_DIR and a scrape
adds them up. The directory must be set before a worker imports prometheus_client, hence here, in the
master, and it must belong to this gunicorn alone (its files are deleted when it starts). Without
PROMETHEUS_MULTIPROC_DIR in the environment, a fresh temporary directory is used and removed at exit.
"""

import os
import shutil
import tempfile
from pathlib import Path

# Set once per master: a configuration reload (SIGHUP) runs this file again and keeps the directory.
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="trial-diary-gunicorn-metrics-")
    os.environ["TRIAL_DIARY_OWN_METRICS_DIR"] = "1"


def on_starting(server):
    """A previous run's counts would be added to this one's."""
    path = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    path.mkdir(parents=True, exist_ok=True)
    for stale in path.glob("*.db"):
        stale.unlink()


def child_exit(server, worker):
    """A dead worker's counts stay in the sums (counters do not go back); its live gauges must go."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    if os.environ.get("TRIAL_DIARY_OWN_METRICS_DIR"):
        shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)
