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


# gunicorn answers some requests itself, before the app sees them: a request line longer than limit_request_line
# (414), more or larger headers than limit_request_fields / limit_request_field_size (431), bytes that are not
# HTTP (400), and a worker's own failure (500). Its answers are HTML pages; they are written here in the API's
# one error shape instead (api/errors.py), with fixed words: gunicorn's own message would echo the request back.
# A request the worker timeout ends gets no answer at all (the worker is killed with its connections); the
# phone treats it as a broken connection and sends the same entry again.
def _write_error_in_the_api_shape(sock, status_int, reason, mesg):
    import json

    from gunicorn import util

    words = {400: "The request is not valid HTTP.", 414: "The address is longer than the server accepts.",
             431: "The request's headers are larger than the server accepts.",
             500: "Something went wrong on our side."}
    code = "internal_error" if status_int == 500 else reason.lower().replace(" ", "_")
    body = json.dumps({"code": code, "status": status_int, "message": words.get(status_int, reason)}).encode()
    head = (f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\nContent-Type: application/json\r\n"
            f"Cache-Control: no-store\r\nContent-Length: {len(body)}\r\n\r\n").encode("latin1")
    util.write_nonblock(sock, head + body)


def _answer_errors_in_the_api_shape():
    from gunicorn import util

    util.write_error = _write_error_in_the_api_shape


_answer_errors_in_the_api_shape()
