"""Prometheus metrics at /metrics: the token, requests per route template, the pipeline's health as it moves."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine, update

from api.extensions import db
from api.metrics.exposition import check_token
from api.metrics.pipeline import PipelineCollector
from api.models import Alert, BeatLease, EvaluationRequest, OutboxMessage
from api.services import diary

from ..conftest import drain, entry

TOKEN = "metrics-token-for-the-tests-0123456789"
AUTHORIZED = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def metrics_on(app, monkeypatch):
    monkeypatch.setitem(app.config, "METRICS_TOKEN", TOKEN)


def scrape(client) -> dict[tuple[str, frozenset], float]:
    response = client.get("/metrics", headers=AUTHORIZED)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.content_type.startswith("text/plain; version=")
    return {(sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(response.get_data(as_text=True))
            for sample in family.samples}


def value(samples, name: str, **labels) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def requests_counted(samples, route: str, status: str, method: str = "GET") -> float:
    return value(samples, "trial_diary_http_request_duration_seconds_count", method=method, route=route,
                 status=status)


def test_metrics_answer_404_while_no_token_is_configured(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "METRICS_TOKEN", "")
    missing = client.get("/no-such-endpoint")
    for headers in ({}, {"Authorization": "Bearer "}, AUTHORIZED):
        response = client.get("/metrics", headers=headers)
        assert (response.status_code, response.get_json()) == (404, missing.get_json())


@pytest.mark.parametrize("authorization", [None, "", "Bearer", "Bearer wrong-token-of-some-length-000000",
                                           f"Bearer {TOKEN}x", f"Bearer {TOKEN[:-1]}", f"Basic {TOKEN}", TOKEN])
def test_metrics_are_refused_without_their_token(client, metrics_on, authorization):
    headers = {} if authorization is None else {"Authorization": authorization}
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 401
    assert response.get_json()["code"] == "unauthorized"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "trial_diary" not in response.get_data(as_text=True)


def test_a_short_token_is_refused_at_start():
    with pytest.raises(ValueError, match="METRICS_TOKEN"):
        check_token("too-short")
    check_token("")  # no token: metrics are off
    check_token("x" * 16)


def test_requests_are_counted_per_route_template_and_status_never_per_id(world, client, metrics_on):
    nurse = world.as_nurse
    before = scrape(client)
    trial_route = "/api/v1/trials/<int:trial_id>"
    assert nurse.get(f"/trials/{world.trial_id}").status_code == 200
    assert nurse.get(f"/trials/{world.trial_id}").status_code == 200
    assert nurse.get(f"/trials/{world.trial_id + 1000}").status_code == 404
    assert client.get(f"/no/such/path/{world.trial_id}").status_code == 404
    after = scrape(client)
    assert requests_counted(after, trial_route, "200") - requests_counted(before, trial_route, "200") == 2
    assert requests_counted(after, trial_route, "404") - requests_counted(before, trial_route, "404") == 1
    assert requests_counted(after, "unmatched", "404") - requests_counted(before, "unmatched", "404") == 1
    routes = {dict(labels)["route"] for name, labels in after if name.startswith("trial_diary_http_")}
    assert not [route for route in routes if any(segment.isdigit() for segment in route.split("/"))]
    # The histogram's buckets hold the same requests.
    assert value(after, "trial_diary_http_request_duration_seconds_bucket", method="GET", route=trial_route,
                 status="200", le="+Inf") == requests_counted(after, trial_route, "200")


def test_an_entry_raises_the_outbox_backlog_until_the_worker_drains_it(world, app, client, metrics_on):
    assert value(scrape(client), "trial_diary_outbox_messages") == 0
    posted = world.as_patient.post(f"/trials/{world.trial_id}/entries", json=entry())
    assert posted.status_code == 201
    samples = scrape(client)
    assert value(samples, "trial_diary_outbox_messages") == 1
    assert 0 <= value(samples, "trial_diary_outbox_oldest_age_seconds") < 60

    with app.app_context():  # the worker's follow-up of the entry: the outbox row becomes an evaluation request
        message_id = db.session.query(OutboxMessage.id).scalar()
        diary.follow_up_entry(message_id=message_id)
        db.session.remove()
    samples = scrape(client)
    assert value(samples, "trial_diary_outbox_messages") == 0
    assert value(samples, "trial_diary_outbox_oldest_age_seconds") == 0
    assert value(samples, "trial_diary_evaluation_requests_due") == 0  # still inside its debounce

    with app.app_context():
        db.session.execute(update(EvaluationRequest).values(due_at=datetime.now(UTC) - timedelta(minutes=3)))
        db.session.commit()
    samples = scrape(client)
    assert value(samples, "trial_diary_evaluation_requests_due") == 1
    assert 180 <= value(samples, "trial_diary_evaluation_requests_oldest_due_seconds") < 240

    drain(app)
    samples = scrape(client)
    assert value(samples, "trial_diary_evaluation_requests_due") == 0
    assert value(samples, "trial_diary_evaluation_requests_oldest_due_seconds") == 0
    assert value(samples, "trial_diary_pipeline_up") == 1


def test_a_critical_alert_past_its_escalation_shows_up_until_acknowledged(world, app, client, metrics_on):
    world.as_patient.post(f"/trials/{world.trial_id}/entries", json=entry(symptoms=["new_weakness"]))
    with app.app_context():
        diary.follow_up_entry(message_id=db.session.query(OutboxMessage.id).scalar())
        db.session.remove()
    samples = scrape(client)
    assert value(samples, "trial_diary_alerts_open", severity="critical") == 1
    assert value(samples, "trial_diary_alerts_past_escalation", severity="critical") == 0
    assert value(samples, "trial_diary_notifications", state="pending") == 2  # the nurse and the physician
    assert value(samples, "trial_diary_notifications_oldest_pending_seconds") >= 0

    drain(app)
    samples = scrape(client)
    assert value(samples, "trial_diary_notifications", state="pending") == 0
    assert ("trial_diary_notifications", frozenset({("state", "sent")})) not in samples  # the history: not counted
    assert value(samples, "trial_diary_notifications", state="failed") == 0
    assert value(samples, "trial_diary_notifications_oldest_pending_seconds") == 0

    with app.app_context():  # nobody acknowledged it: its escalation time passes
        db.session.execute(update(Alert).values(escalate_at=datetime.now(UTC) - timedelta(minutes=5)))
        db.session.commit()
    samples = scrape(client)
    assert value(samples, "trial_diary_alerts_past_escalation", severity="critical") == 1
    assert 300 <= value(samples, "trial_diary_alerts_past_escalation_oldest_seconds", severity="critical") < 360
    assert value(samples, "trial_diary_alerts_past_escalation", severity="high") == 0

    alert_id = world.as_nurse.get("/alerts?status=open").get_json()[0]["id"]
    assert world.as_nurse.post(f"/alerts/{alert_id}/acknowledge", json={}).status_code == 200
    samples = scrape(client)
    assert value(samples, "trial_diary_alerts_open", severity="critical") == 0
    assert value(samples, "trial_diary_alerts_past_escalation", severity="critical") == 0


def test_the_beat_lease_holder_and_its_expiry(app, client, metrics_on):
    assert value(scrape(client), "trial_diary_beat_lease_held") == 0
    with app.app_context():
        db.session.add(BeatLease(name="beat", holder="host-a:41:abcd1234",
                                 expires_at=datetime.now(UTC) + timedelta(seconds=20)))
        db.session.commit()
    samples = scrape(client)
    assert value(samples, "trial_diary_beat_lease_held") == 1
    assert 10 < value(samples, "trial_diary_beat_lease_expires_in_seconds") <= 20
    assert value(samples, "trial_diary_beat_lease_holder", holder="host-a:41:abcd1234") == 1

    with app.app_context():  # its holder stopped renewing it a minute ago
        db.session.execute(update(BeatLease).values(expires_at=datetime.now(UTC) - timedelta(seconds=60)))
        db.session.commit()
    samples = scrape(client)
    assert value(samples, "trial_diary_beat_lease_held") == 0
    assert -70 < value(samples, "trial_diary_beat_lease_expires_in_seconds") <= -60


def test_a_database_that_does_not_answer_gives_pipeline_up_zero(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'missing' / 'folder' / 'db.sqlite'}")
    families = {family.name: family for family in PipelineCollector(lambda: engine).collect()}
    assert families["trial_diary_pipeline_up"].samples[0].value == 0
    assert "trial_diary_outbox_messages" not in families


def test_every_metric_the_operations_guide_names_is_exposed(app, client, metrics_on):
    """docs/operations.md's rules and table must not drift from the names the code exposes."""
    with app.app_context():
        db.session.add(BeatLease(name="beat", holder="h:1:x", expires_at=datetime.now(UTC)))
        db.session.commit()
    client.get("/api/v1/healthz")
    exposed = set(re.findall(r"trial_diary_\w+", client.get("/metrics", headers=AUTHORIZED).get_data(as_text=True)))
    guide = (Path(__file__).resolve().parents[2] / "docs" / "operations.md").read_text()
    named = set(re.findall(r"trial_diary_\w+", guide))
    assert named, "the guide names metrics"
    assert {name for name in named if re.sub(r"_(count|bucket|sum)$", "", name) not in exposed
            and name not in exposed} == set()


def test_the_worker_exporter_starts_only_with_a_token_and_a_directory_of_its_own(tmp_path, monkeypatch, caplog):
    import requests

    from api.metrics.worker import start_exporter

    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    assert start_exporter(host="127.0.0.1", port=0, token=TOKEN) is None
    assert "PROMETHEUS_MULTIPROC_DIR" in caplog.text
    folder = tmp_path / "worker-metrics"
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(folder))
    assert start_exporter(host="127.0.0.1", port=0, token="") is None
    folder.mkdir()
    (folder / "counter_4242.db").write_bytes(b"")  # a previous run's file
    server = start_exporter(host="127.0.0.1", port=0, token=TOKEN)
    try:
        url = f"http://127.0.0.1:{server.server_port}/metrics"
        assert not (folder / "counter_4242.db").exists()
        assert requests.get(url, timeout=5).status_code == 401
        assert requests.get(url, headers={"Authorization": "Bearer nope"}, timeout=5).status_code == 401
        assert requests.get(url, headers=AUTHORIZED, timeout=5).status_code == 200
    finally:
        server.shutdown()
        server.server_close()
