"""The API as gunicorn serves it, at the edges (issue 18): a hung Redis and readiness (finding 2), and the answers
gunicorn writes itself (finding 10).

A frozen Redis (SIGSTOPped, or a network that drops replies) accepts the TCP connection and then says nothing.
A TCP listener that does exactly that stands in for it as the broker. Readiness must answer 503 within its own
deadline, naming the broker, and must not hold the workers: the liveness probe and other requests go on.
"""

from __future__ import annotations

import json
import socket
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from .conftest import app_settings, free_port, wait_for
from .test_outage import Gunicorn

pytestmark = pytest.mark.integration


class SilentListener:
    """Accepts every connection and never sends a byte (nor reads one)."""

    def __init__(self):
        self.port = free_port()
        self.server = socket.create_server(("127.0.0.1", self.port))
        self.accepted: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.server.accept()
            except OSError:  # closed
                return
            self.accepted.append(connection)

    def close(self) -> None:
        self.server.close()
        for connection in self.accepted:
            connection.close()


@pytest.fixture(scope="module")
def hung_redis():
    listener = SilentListener()
    yield listener
    listener.close()


@pytest.fixture(scope="module")
def server(pg_url, hung_redis, tmp_path_factory):
    """gunicorn (two workers of two threads, as production) whose broker is the silent listener."""
    folder = tmp_path_factory.mktemp("gunicorn-edges")
    gunicorn = Gunicorn({**app_settings(pg_url, f"redis://127.0.0.1:{hung_redis.port}/0", folder),
                         "READINESS_TIMEOUT_SECONDS": "1", "LOG_LEVEL": "WARNING"}, folder)
    try:
        yield gunicorn.start()
    finally:
        gunicorn.stop()


def test_readiness_answers_503_in_its_own_time_while_redis_hangs(server, hung_redis):
    ready = f"{server.url}/api/v1/readyz"
    # Four probes: before readiness had a deadline, they held both workers' two threads until Redis answered.
    with ThreadPoolExecutor(4) as pool:
        probes = [pool.submit(requests.get, ready, timeout=30) for _ in range(4)]
        wait_for(lambda: hung_redis.accepted, 30, 0.05, "a probe to reach the silent Redis")
        # While the probes wait on Redis, the workers still serve: liveness, and the API's own answers.
        assert requests.get(f"{server.url}/api/v1/healthz", timeout=10).status_code == 200
        assert requests.get(f"{server.url}/api/v1/trials", timeout=10).status_code == 401
        answers = [probe.result() for probe in probes]
    for answer in answers:
        assert answer.status_code == 503
        assert answer.json() == {"status": "not_ready", "checks": {"database": True, "broker": False}}


def _raw(server, request: bytes) -> tuple[str, dict[str, str], bytes]:
    """Send `request` as bytes; the status line, headers and body of the answer."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as connection:
        connection.sendall(request)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    status, *lines = head.decode("latin1").split("\r\n")
    return status, dict(line.split(": ", 1) for line in lines), body


@pytest.mark.parametrize(("request_bytes", "status", "code"), [
    (b"GET /api/v1/healthz?" + b"a" * 5000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414, "uri_too_long"),
    (b"GET /api/v1/healthz HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-Filler-%d: 1\r\n" % n for n in range(120))
     + b"\r\n", 431, "request_header_fields_too_large"),
    (b"GET /api/v1/healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 9000 + b"\r\n\r\n", 431,
     "request_header_fields_too_large"),
    (b"GET /api/v1/healthz?token=secret-patient-words HTTP/9.9\r\nHost: x\r\n\r\n", 400, "bad_request"),
])
def test_the_answers_gunicorn_writes_itself_are_in_the_error_shape(server, request_bytes, status, code):
    status_line, headers, body = _raw(server, request_bytes)
    assert status_line.startswith(f"HTTP/1.1 {status} ")
    assert headers["Content-Type"] == "application/json"
    answer = json.loads(body)
    assert answer["code"] == code and answer["status"] == status and answer["message"]
    assert b"secret" not in body  # the request is not echoed back
