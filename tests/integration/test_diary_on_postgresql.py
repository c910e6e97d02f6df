"""The diary's writes on PostgreSQL, where a new entry, its follow-up message and its audit row are one statement.

The API tests run on SQLite, where they are three; these check that both give the same rows and answers.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import event, select

from api.extensions import db
from api.models import AuditEvent, DiaryEntry, OutboxMessage, Patient, Trial
from api.services.diary import ENTRY_STORED

from ..conftest import ApiClient, entry, make_world

pytestmark = pytest.mark.integration


def _rows(app, trial_id: int) -> tuple[list[DiaryEntry], list[OutboxMessage], list[tuple]]:
    with app.app_context():
        entries = db.session.execute(select(DiaryEntry).where(DiaryEntry.trial_id == trial_id)).scalars().all()
        messages = db.session.execute(select(OutboxMessage).order_by(OutboxMessage.id)).scalars().all()
        events = db.session.execute(
            select(AuditEvent.action, AuditEvent.outcome, AuditEvent.patient_id, AuditEvent.actor_role,
                   AuditEvent.status_code, AuditEvent.request_id)
            .where(AuditEvent.object_id == str(trial_id)).order_by(AuditEvent.id)
        ).all()
        db.session.expunge_all()
        return entries, messages, [tuple(event) for event in events]


def test_a_new_entry_is_stored_with_its_follow_up_and_audit_row_and_refusals_store_nothing(pg):
    world = make_world(pg, pg.test_client())
    patient, url = world.as_patient, f"/trials/{world.trial_id}/entries"
    body = entry(note="slept badly")
    stored = patient.post(url, json=body, headers={"X-Request-ID": "req-new-entry"})
    assert stored.status_code == 201
    entry_id = stored.get_json()["id"]

    entries, messages, events = _rows(pg, world.trial_id)
    assert [(row.id, row.client_id, row.version, row.content["note"]) for row in entries] == [
        (entry_id, body["client_id"], 1, "slept badly")]
    assert [(m.topic, m.payload) for m in messages] == [(ENTRY_STORED, {
        "entry_id": entry_id, "version": 1, "trial_id": world.trial_id, "request_id": "req-new-entry",
        "urgent": False})]
    assert events == [("entry.create", "success", world.patient_id, "patient", None, "req-new-entry")]

    assert patient.post(url, json=body).status_code == 200  # a replay stores nothing more
    changed = patient.post(url, json={**body, "pain": {"score": 9}})
    assert changed.status_code == 409 and changed.get_json()["details"] == {"entry_id": entry_id}
    assert world.as_second_patient.post(url, json=entry()).status_code == 404
    assert world.as_nurse.post(url, json=entry()).status_code == 403
    with pg.app_context():
        db.session.get(Trial, world.trial_id).closure = "cancelled"
        db.session.commit()
    assert patient.post(url, json=entry()).status_code == 409

    entries, messages, events = _rows(pg, world.trial_id)
    assert [row.id for row in entries] == [entry_id] and len(messages) == 1
    assert [(action, outcome, status) for action, outcome, _, _, status, _ in events] == [
        ("entry.create", "success", None), ("entry.create", "success", None), ("entry.create", "conflict", 409),
        ("entry.create", "not_found", 404), ("entry.create", "forbidden", 403), ("entry.create", "conflict", 409),
    ]


def test_a_new_entry_costs_one_statement_in_autocommit_and_its_answer_reads_nothing_more(pg):
    """The ingest's budget (docs/benchmarks.md, Ingest): one statement, one round trip. Its answer's `late` once
    read the trial after the commit (a transaction of its own: BEGIN, SELECT, ROLLBACK), which halved the
    benchmark's ratio to the floor; any statement added to this path shows here."""
    world = make_world(pg, pg.test_client())
    patient, url = world.as_patient, f"/trials/{world.trial_id}/entries"
    assert patient.post(url, json=entry()).status_code == 201  # the pool's connection and the token, as when warm
    sent: list[tuple[str, bool]] = []

    def count(_connection, cursor, statement, *_):
        sent.append((statement.split()[0], cursor.connection.autocommit))

    with pg.app_context():  # a request's own session, as in production: nothing of this test's reads in it
        event.listen(db.engine, "before_cursor_execute", count)
        try:
            stored = patient.post(url, json=entry(note="one statement"))
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
    assert stored.status_code == 201 and stored.get_json()["late"] is False
    assert sent == [("WITH", True)]  # autocommit: no BEGIN or COMMIT round trip around it


def test_an_entry_with_a_revoked_or_deactivated_sign_in_is_refused_and_not_stored(pg):
    world = make_world(pg, pg.test_client())
    url = f"/trials/{world.trial_id}/entries"
    signed_out, deactivated = world.as_patient, world.as_patient
    assert signed_out.post("/auth/logout").status_code == 204
    refused = signed_out.post(url, json=entry())
    assert refused.status_code == 401
    assert refused.get_json()["message"] == "The token was revoked or its account is not active."
    with pg.app_context():
        db.session.get(Patient, world.patient_id).user.active = False
        db.session.commit()
    assert deactivated.post(url, json=entry()).status_code == 401
    entries, messages, events = _rows(pg, world.trial_id)
    assert entries == [] and messages == [] and events == []


def test_one_entry_sent_at_once_from_many_connections_is_stored_once(pg):
    world = make_world(pg, pg.test_client())
    url, body, token = f"/trials/{world.trial_id}/entries", entry(), world.as_patient.token
    start = threading.Barrier(8)

    def send(_):
        phone = ApiClient(pg.test_client(), token)
        start.wait()
        return phone.post(url, json=body)

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(send, range(8)))
    assert sorted(answer.status_code for answer in answers) == [200] * 7 + [201]
    assert len({answer.get_json()["id"] for answer in answers}) == 1
    entries, messages, events = _rows(pg, world.trial_id)
    assert len(entries) == 1 and len(messages) == 1
    assert [(action, outcome) for action, outcome, *_ in events] == [("entry.create", "success")] * 8
