"""Issue 10's findings 3 and 9-13 on every backend: limits, passwords, webhooks, headers, CSV."""

from __future__ import annotations

import csv
import io

import pytest

from api.exports.csv import _cell

from ..conftest import entry

# Finding 13: CSV injection ---------------------------------------------------------------------------------

@pytest.mark.parametrize("value", [
    "-Infinity", "+nan", "-1_0", "+1", "-1e5", "=1+1", "@SUM(A1)", " =1+1", "\n=1+1", "\t=1+1", "\r=1",
    "\u00a0=HYPERLINK(\"http://x\")", "\u3000+1", "\u2003-1", "\u200b=1", "\ufeff@x", " \u00a0 -2", "\uff1d1+1",
])
def test_values_a_spreadsheet_could_run_are_quoted(value):
    assert _cell(value) == "'" + value


@pytest.mark.parametrize("value", ["0", "12", "-3", "-2.5", "57.5", "tramadol 50 mg", "a=b", "", "1-2"])
def test_plain_numbers_and_text_pass_unchanged(value):
    assert _cell(value) == value


def test_the_csv_export_defuses_formulas_behind_whitespace(world):
    url = f"/trials/{world.trial_id}/entries"
    for note in ("\u00a0=HYPERLINK(\"http://x\")", " +1", "\n-1_0"):
        assert world.as_patient.post(url, json=entry(note=note)).status_code == 201
    response = world.as_nurse.get(f"/trials/{world.trial_id}/entries.csv")
    notes = [row["note"] for row in csv.DictReader(io.StringIO(response.get_data(as_text=True)))]
    assert notes == ["'\u00a0=HYPERLINK(\"http://x\")", "' +1", "'\n-1_0"]


# Finding 9: nobody can lock another person out ---------------------------------------------------------------

LOGIN = "/api/v1/auth/login"
STRANGER, OWNER = {"REMOTE_ADDR": "203.0.113.66"}, {"REMOTE_ADDR": "198.51.100.7"}


def _login(client, email, password, where):
    return client.post(LOGIN, json={"email": email, "password": password}, environ_base=where)


def test_a_stranger_guessing_a_password_does_not_lock_the_owner_out(world):
    answers = [_login(world.client, world.nurse, f"wrong-guess-{n}", STRANGER).status_code for n in range(11)]
    assert answers == [401] * 10 + [429]  # the stranger is throttled on this account...
    assert _login(world.client, world.nurse, "correct-horse-battery", STRANGER).status_code == 429
    # ...and the owner, elsewhere, signs in as usual.
    assert _login(world.client, world.nurse, "correct-horse-battery", OWNER).status_code == 200


def test_guessing_across_accounts_from_one_address_stays_throttled(world, app, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_LIMIT_PER_ADDRESS", "4 per 15 minutes")
    accounts = [world.nurse, world.physician, world.admin, world.patient]
    assert [_login(world.client, email, "wrong-guess-1", STRANGER).status_code for email in accounts] == [401] * 4
    assert _login(world.client, world.other_nurse, "wrong-guess-1", STRANGER).status_code == 429
    assert _login(world.client, world.other_nurse, "correct-horse-battery", OWNER).status_code == 200


def test_successful_sign_ins_and_bad_input_are_not_counted(world, app, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_LIMIT_PER_ACCOUNT_ADDRESS", "2 per 15 minutes")
    for _ in range(3):
        assert _login(world.client, world.nurse, "correct-horse-battery", OWNER).status_code == 200
        assert _login(world.client, world.nurse, "\x00" * 10, OWNER).status_code == 422
    assert _login(world.client, world.nurse, "wrong-guess-1", OWNER).status_code == 401
    assert _login(world.client, world.nurse, "correct-horse-battery", OWNER).status_code == 200


# Finding 10 and 6 (passwords) -----------------------------------------------------------------------------

REFUSED = ["1234567890", "password12", "aaaaaaaaaa", "\x00" * 10, "short-pw", "x" * 1025, "qwertyuiop",
           "9876543210", "abcdefghij", "zaq12wsxcde", "1212121212", "monkey1234", "trialdiary2026",
           "Trial Diary 2026!", "tab\there-long-enough", "\ud800 a long password"]


@pytest.mark.parametrize("password", REFUSED)
def test_the_password_policy_refuses(password):
    from api.services.passwords import password_problem

    assert password_problem(password)


@pytest.mark.parametrize("password", ["correct-horse-battery", "a-long-nurse-password", "my-phone-password",
                                      "tomato soup by the river", "ünïcödé-pässwörd",
                                      ("river stone " * 86)[:1024]])
def test_the_password_policy_accepts(password):
    from api.services.passwords import password_problem

    assert password_problem(password) is None


def test_the_email_name_is_not_a_password():
    from api.services.passwords import password_problem

    assert password_problem("nina.schmidt99", email="nina.schmidt@clinic.test")
    assert password_problem("schmidt-2026!", email="nina.schmidt@clinic.test")
    assert password_problem("nina-loves-long-hikes", email="nina@clinic.test") is None


def test_a_new_staff_account_refuses_a_weak_password(world):
    admin = world.as_admin
    for password in ["1234567890", "password12", "aaaaaaaaaa", "\x00" * 10, "\ud800" * 10]:
        answer = admin.post("/users", json={"email": "new@clinic.test", "role": "nurse", "password": password})
        assert answer.status_code == 422 and list(answer.get_json()["errors"]) == ["password"], password


def test_a_new_staff_account_refuses_its_email_name_as_password(world):
    answer = world.as_admin.post("/users", json={"email": "rosalind@clinic.test", "role": "nurse",
                                                  "password": "Rosalind2026"})
    assert answer.status_code == 422 and list(answer.get_json()["errors"]) == ["password"]
    fine = world.as_admin.post("/users", json={"email": "rosalind@clinic.test", "role": "nurse",
                                                "password": "correct-horse-battery"})
    assert fine.status_code == 201


def _new_patient_code(world) -> str:
    created = world.as_nurse.post("/patients", json={
        "display_name": "K. L.", "mrn": "K-9", "date_of_birth": "1970-05-05", "email": "kowalski@example.test",
        "timezone": "Europe/Paris"})
    assert created.status_code == 201, created.get_json()
    return created.get_json()["enrollment_code"]


def test_enrollment_refuses_a_weak_password_and_keeps_the_code(world):
    code = _new_patient_code(world)
    for password in ["1234567890", "password12", "aaaaaaaaaa", "\x00" * 10, "kowalski2026"]:
        refused = world.client.post("/api/v1/auth/enroll", json={"enrollment_code": code, "password": password})
        assert refused.status_code == 422 and list(refused.get_json()["errors"]) == ["password"], password
    accepted = world.client.post("/api/v1/auth/enroll", json={"enrollment_code": code,
                                                              "password": "correct-horse-battery"})
    assert accepted.status_code == 200


def test_sign_in_with_nul_or_a_lone_surrogate_is_bad_input(world):
    for password in ["\x00" * 10, "pass\x00word-long", "\ud800", "abc\udfffdefghijk"]:
        answer = world.client.post(LOGIN, json={"email": world.nurse, "password": password})
        assert answer.status_code == 422 and list(answer.get_json()["errors"]) == ["password"], password


def test_a_lone_surrogate_in_raw_json_is_bad_input_not_a_crash(world):
    body = '{"email": "' + world.nurse + '", "password": "\\ud800\\ud800"}'
    answer = world.client.post(LOGIN, data=body, content_type="application/json")
    assert answer.status_code == 422 and list(answer.get_json()["errors"]) == ["password"]


def test_the_create_user_command_refuses_a_weak_password(app):
    runner = app.test_cli_runner()
    args = ["create-user", "--email", "boss@clinic.test", "--role", "admin", "--clinic", "C", "--password-stdin"]
    refused = runner.invoke(args=args, input="password12\n")
    assert refused.exit_code != 0 and "too common" in refused.output
    created = runner.invoke(args=args, input="correct-horse-battery\n")
    assert created.exit_code == 0, created.output


# Finding 12: headers ---------------------------------------------------------------------------------------

FRAME_AND_SNIFF = {"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "same-origin"}


def _has_base_headers(response) -> bool:
    csp = response.headers.get("Content-Security-Policy", "")
    return all(response.headers.get(k) == v for k, v in FRAME_AND_SNIFF.items()) and "frame-ancestors 'none'" in csp


def test_every_response_carries_the_security_headers_and_patient_data_is_not_cached(world):
    nurse = world.as_nurse
    responses = {
        "trial": nurse.get(f"/trials/{world.trial_id}"), "list": nurse.get("/trials"),
        "csv": nurse.get(f"/trials/{world.trial_id}/entries.csv"), "missing": nurse.get("/trials/999999"),
        "anonymous": world.client.get("/api/v1/trials"), "bad login": world.client.post(LOGIN, json={}),
        "wrong method": world.client.put("/api/v1/auth/login"), "no route": world.client.get("/nowhere"),
        "health": world.client.get("/api/v1/healthz"),
    }
    for name, response in responses.items():
        assert _has_base_headers(response), name
        assert response.headers["Cache-Control"] == "no-store", name
    assert responses["trial"].headers["Content-Security-Policy"].startswith("default-src 'none'")


def test_the_docs_page_has_no_inline_script_and_loads_its_assets_from_the_app(client):
    from html.parser import HTMLParser

    page = client.get("/api/v1/docs")
    assert page.status_code == 200 and _has_base_headers(page)
    csp = dict(part.strip().split(" ", 1) for part in page.headers["Content-Security-Policy"].split(";"))
    assert csp["script-src"] == "'self'" and "unsafe" not in csp["script-src"] and csp["default-src"] == "'none'"

    class Assets(HTMLParser):
        scripts, inline, links = [], [], []

        def handle_starttag(self, tag, attrs):
            attrs = dict(attrs)
            if tag == "script":
                (self.scripts if attrs.get("src") else self.inline).append(attrs.get("src"))
            if tag == "link":
                self.links.append(attrs["href"])

    parser = Assets()
    parser.feed(page.get_data(as_text=True))
    assert not parser.inline and len(parser.scripts) == 3 and parser.links
    for url in parser.scripts + parser.links:
        assert url.startswith("/"), url  # served by this app, nothing from a CDN
        asset = client.get(url)
        assert asset.status_code == 200 and asset.headers["X-Content-Type-Options"] == "nosniff", url
        assert "no-store" not in asset.headers.get("Cache-Control", ""), url
    init = client.get(parser.scripts[-1]).get_data(as_text=True)
    assert "SwaggerUIBundle(" in init and "specUrl" in init
    assert 'data-spec-url="/api/v1/openapi.json"' in page.get_data(as_text=True)
    spec = client.get("/api/v1/openapi.json")
    assert spec.status_code == 200 and "no-store" not in spec.headers.get("Cache-Control", "")


def test_rapidoc_is_gone_and_no_docs_setting_points_outside_the_app(app, client):
    assert client.get("/api/v1/rapidoc").status_code == 404
    outside = {k: v for k, v in app.config.items() if k.startswith("OPENAPI_") and "://" in str(v)}
    assert outside == {}


def test_a_blueprint_can_set_its_own_policy_over_the_defaults():
    from flask import Flask

    from api import http_headers

    app = Flask("console")
    http_headers.register(app)

    @app.after_request
    def console_policy(response):  # registered after: Flask runs it first, as it does a blueprint's
        return http_headers.apply(response, {"Content-Security-Policy": "default-src 'self'"})

    @app.route("/page")
    def page():
        return "<p>hello</p>"

    response = app.test_client().get("/page")
    assert response.headers["Content-Security-Policy"] == "default-src 'self'"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Frame-Options"] == "DENY" and response.headers["Cache-Control"] == "no-store"


# Finding 11: webhooks reach public addresses only -----------------------------------------------------------

REFUSED_HOOKS = [
    "https://100.100.100.200/", "https://100.64.0.1/", "https://169.254.169.254/latest/", "https://10.1.2.3/",
    "https://127.0.0.1/", "https://0.0.0.0/", "https://224.0.0.1/", "https://198.18.0.1/",
    "https://[2002:7f00:1::]/",  # 6to4 of 127.0.0.1
    "https://[2002:a00:1::]/",  # 6to4 of 10.0.0.1
    "https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/",  # Teredo
    "https://[::ffff:10.0.0.1]/", "https://[::ffff:127.0.0.1]/", "https://[::ffff:100.100.100.200]/",
    "https://[64:ff9b::a9fe:a9fe]/",  # NAT64 of 169.254.169.254
    "https://[::7f00:1]/",  # IPv4-compatible 127.0.0.1
    "https://[::1]/", "https://[fe80::1]/", "https://[fd00:ec2::254]/", "https://[ff0e::1]/",
    "https://8.8.8.8:99999/", "https://[1::2::3]/",
]


def test_webhooks_to_non_public_addresses_are_refused_and_public_ones_accepted(world):
    admin = world.as_admin
    for url in REFUSED_HOOKS:
        answer = admin.post("/webhooks", json={"url": url})
        assert answer.status_code == 422 and list(answer.get_json()["errors"]) == ["url"], url
    for url in ["https://8.8.8.8/hook", "https://[2606:4700::1111]/hook", "https://[2002:808:808::]/hook"]:
        assert admin.post("/webhooks", json={"url": url}).status_code == 201, url


class Listener:
    """A local HTTP server: records requests, answers `status` (with `location`), counts TCP connections."""

    def __init__(self, status: int = 200, location: str | None = None):
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        requests, connections = self.requests, self.connections = [], []

        class Handler(BaseHTTPRequestHandler):
            def setup(self):
                connections.append(self.client_address)
                super().setup()

            def do_POST(self):  # noqa: N802 (http.server's name)
                requests.append((dict(self.headers), self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(status)
                if location:
                    self.send_header("Location", location)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_port
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def listener():
    started = []

    def start(**kwargs) -> Listener:
        started.append(Listener(**kwargs))
        return started[-1]

    yield start
    for server in started:
        server.close()


def _alert_webhook_deliveries(world, app) -> list:
    from api.extensions import db
    from api.models import Notification

    from ..conftest import drain

    assert world.as_patient.post(f"/trials/{world.trial_id}/entries",
                                 json=entry(symptoms=["clear_fluid_leak"])).status_code == 201
    drain(app)
    with app.app_context():
        rows = db.session.query(Notification).filter_by(channel="webhook").all()
        db.session.expunge_all()
        return rows


def test_a_name_that_resolves_to_a_private_address_at_delivery_reaches_nothing(world, app, listener, monkeypatch):
    import socket

    target = listener()
    real = socket.getaddrinfo
    answers = {"hooks.clinic.test": "93.184.215.14"}  # public when the admin registers it...
    monkeypatch.setattr(socket, "getaddrinfo", lambda host, *a, **k: real(answers.get(host, host), *a, **k))
    url = f"https://hooks.clinic.test:{target.port}/hook"
    assert world.as_admin.post("/webhooks", json={"url": url}).status_code == 201
    answers["hooks.clinic.test"] = "127.0.0.1"  # ...and loopback when the delivery connects (DNS rebinding)
    [delivery] = _alert_webhook_deliveries(world, app)
    assert delivery.state == "failed" and delivery.last_error == (
        "webhook address refused: Only publicly routable addresses may receive webhooks.")
    assert target.connections == []  # not even a TCP connection


def test_the_delivery_connection_refuses_private_peers_unless_allowed(listener):
    from api.channels.webhook import AddressRefused, checked_session

    target = listener()
    with pytest.raises(AddressRefused), checked_session(allow_private=False) as session:
        session.post(f"http://localhost:{target.port}/hook", data=b"{}", timeout=5)
    assert target.connections == []
    with checked_session(allow_private=True) as session:
        assert session.post(f"http://localhost:{target.port}/hook", data=b"{}", timeout=5).status_code == 200


def test_a_failed_connection_does_not_tell_what_listens_where(world, app, listener, monkeypatch):
    import socket

    with socket.socket() as probe:  # a port that nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_PRIVATE", True)
    assert world.as_admin.post("/webhooks", json={"url": f"http://127.0.0.1:{closed_port}/hook"}).status_code == 201
    [delivery] = _alert_webhook_deliveries(world, app)
    assert delivery.state == "pending" and delivery.last_error == "webhook: the endpoint could not be reached"


def test_redirects_are_not_followed(world, app, listener, monkeypatch):
    inner = listener()
    outer = listener(status=307, location=f"http://127.0.0.1:{inner.port}/internal")
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_PRIVATE", True)
    assert world.as_admin.post("/webhooks", json={"url": f"http://127.0.0.1:{outer.port}/hook"}).status_code == 201
    [delivery] = _alert_webhook_deliveries(world, app)
    assert delivery.last_error == "webhook answered 307" and len(outer.requests) == 1 and inner.connections == []


def test_an_allowed_webhook_is_delivered_through_the_checked_connection(world, app, listener, monkeypatch):
    target = listener()
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_PRIVATE", True)
    assert world.as_admin.post("/webhooks", json={"url": f"http://127.0.0.1:{target.port}/hook"}).status_code == 201
    [delivery] = _alert_webhook_deliveries(world, app)
    assert delivery.state == "sent" and len(target.requests) == 1
    assert target.requests[0][0]["X-TrialDiary-Delivery"] == delivery.delivery_id


def test_an_ipv6_subscriber_is_one_address_for_the_limits(world, app, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_LIMIT_PER_ACCOUNT_ADDRESS", "2 per 15 minutes")
    hopping = [{"REMOTE_ADDR": f"2001:db8:7:9::{n:x}"} for n in range(1, 4)]  # one /64, three addresses
    assert [_login(world.client, world.nurse, "wrong-guess-1", where).status_code for where in hopping] == [
        401, 401, 429]
    assert _login(world.client, world.nurse, "correct-horse-battery", {"REMOTE_ADDR": "2001:db8:7:a::1"}
                  ).status_code == 200  # the next /64 is someone else
