"""The console in a real browser: Debian's Chromium driven by Playwright for Python, against the app served by
a real HTTP server (werkzeug, threaded) on PostgreSQL, with a real Celery worker where the test needs one.

Off CI, a missing Chromium, PostgreSQL or Redis skips these tests with the reason; under CI=true it fails them.
"""

from __future__ import annotations

import threading

import pytest
from werkzeug.serving import make_server

from tests.browser import browser  # noqa: F401  (the fixture, used by name)
from tests.integration.conftest import (  # noqa: F401  (fixtures, used by name)
    free_port,
    pg,
    pg_app,
    pg_url,
    redis_url,
    unavailable,
    workers,
)


@pytest.fixture
def server(pg):  # noqa: F811  (the fixture imported above)
    """The app (the `pg` one, on its empty PostgreSQL tables) served over HTTP on a free port, in a thread."""
    saved = pg.config["CONSOLE_REFRESH_SECONDS"]
    pg.config["CONSOLE_REFRESH_SECONDS"] = 1  # the pages poll every second: the test waits seconds, not minutes
    http = make_server("127.0.0.1", free_port(), pg, threaded=True)
    thread = threading.Thread(target=http.serve_forever, name="console-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{http.server_port}"
    http.shutdown()
    thread.join(10)
    pg.config["CONSOLE_REFRESH_SECONDS"] = saved
