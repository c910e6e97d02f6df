"""Issue 18 ("Hardening, round two") on every backend: trial lengths, the 500s, path ids, sign-in answers."""

from __future__ import annotations

import socket
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from api import create_app
from api.domain.therapies import REGISTRY
from api.errors import RETRY_AFTER_SECONDS
from api.extensions import db
from api.models import BlockReminder, DiaryEntry

from ..conftest import entry

START = datetime(2026, 11, 10, 9, 0, tzinfo=UTC)


def _trial_body(world, therapy: str, length: timedelta) -> dict:
    body = {"patient_id": world.patient_id, "therapy": therapy, "start_at": START.isoformat(),
            "end_at": (START + length).isoformat(), "baseline": {"pain": 8}}
    row = REGISTRY[therapy]
    if row.is_block:
        levels = ["L4-L5"] if row.levels_required else []
        body.update(target={"region": "lumbar", "side": "left", "levels": levels}, agent="lidocaine")
    return body


# Finding 1: a trial's length is bounded by its therapy -----------------------------------------------------

LIMITS = {"scs": timedelta(days=30), "intrathecal": timedelta(days=30), "pns": timedelta(days=60),
          "medial_branch_block": timedelta(hours=24), "sacroiliac_block": timedelta(hours=24),
          "nerve_root_block": timedelta(hours=24)}


def test_every_therapy_has_its_length_in_the_registry():
    assert {name: row.max_length for name, row in REGISTRY.items()} == LIMITS


def test_a_trial_longer_than_its_therapy_allows_is_refused_naming_end_at(world):
    nurse = world.as_nurse
    for therapy, limit in LIMITS.items():
        too_long = nurse.post("/trials", json=_trial_body(world, therapy, limit + timedelta(minutes=1)))
        assert too_long.status_code == 422, (therapy, too_long.get_json())
        assert list(too_long.get_json()["errors"]) == ["end_at"], therapy
        longest = nurse.post("/trials", json=_trial_body(world, therapy, limit))
        assert longest.status_code == 201, (therapy, longest.get_json())
    decades = nurse.post("/trials", json={**_trial_body(world, "scs", timedelta(days=1)),
                                          "start_at": "2030-01-01T00:00:00Z", "end_at": "2099-12-31T00:00:00Z"})
    assert decades.status_code == 422 and "30 days" in decades.get_json()["errors"]["end_at"][0]


def test_a_block_of_ten_years_writes_no_reminders(world, app):
    nurse = world.as_nurse
    answer = nurse.post("/trials", json=_trial_body(world, "medial_branch_block", timedelta(days=3650)))
    assert answer.status_code == 422 and "end_at" in answer.get_json()["errors"]
    with app.app_context():
        assert db.session.query(BlockReminder).count() == 0


def test_moving_the_end_beyond_the_therapy_length_is_refused(world):
    nurse = world.as_nurse
    trial = nurse.get(f"/trials/{world.trial_id}").get_json()
    start = datetime.fromisoformat(trial["start_at"])
    beyond = nurse.patch(f"/trials/{world.trial_id}", json={"end_at": (start + timedelta(days=31)).isoformat()})
    assert beyond.status_code == 422 and list(beyond.get_json()["errors"]) == ["end_at"]
    within = nurse.patch(f"/trials/{world.trial_id}", json={"end_at": (start + timedelta(days=30)).isoformat()})
    assert within.status_code == 200, within.get_json()


def test_the_published_protocols_say_each_therapy_length(world):
    protocols = {p["therapy"]: p for p in world.as_nurse.get("/protocols").get_json()}
    assert {name: p["max_length_hours"] for name, p in protocols.items()} == {
        name: limit // timedelta(hours=1) for name, limit in LIMITS.items()}


# Findings 3, 4, 7, 11 and 12: no 500 ----------------------------------------------------------------------

def test_repeated_and_unknown_symptoms_are_named_not_a_crash(world):
    patient, nurse = world.as_patient, world.as_nurse
    url = f"/trials/{world.trial_id}/entries"
    answer = patient.post(url, json=entry(symptoms=["fever", "AAA", "fever"]))
    assert answer.status_code == 422 and "symptoms" in answer.get_json()["errors"]
    stored = patient.post(url, json=entry()).get_json()
    for caller in (patient, nurse):
        patched = caller.patch(f"{url}/{stored['id']}", json={"symptoms": ["fever", "AAA", "fever"]})
        assert patched.status_code in (403, 422) and patched.status_code != 500
    assert patient.patch(f"{url}/{stored['id']}", json={"symptoms": ["fever", "AAA", "fever"]}).status_code == 422


def test_the_same_entry_twice_in_a_batch_gets_a_result_each_and_retries_are_duplicates(world, app):
    patient = world.as_patient
    url = f"/trials/{world.trial_id}/entries/batch"
    same, other = entry(score=3), entry(score=5)
    for variant in (same, {**same, "client_id": same["client_id"].upper()}):
        for attempt in range(2):
            answer = patient.post(url, json={"entries": [other, same, variant]})
            assert answer.status_code == 200, answer.get_json()
            results = answer.get_json()["results"]
            assert [r["status"] for r in results] == (["created", "created", "duplicate"] if (
                attempt == 0 and variant is same) else ["duplicate"] * 3), results
            assert results[1]["id"] == results[2]["id"] is not None
    changed = {**same, "pain": {"score": 9}}
    results = patient.post(url, json={"entries": [same, changed]}).get_json()["results"]
    assert [r["status"] for r in results] == ["duplicate", "conflict"]
    with app.app_context():
        assert db.session.query(DiaryEntry).count() == 2


def test_an_entry_refused_for_two_reasons_in_a_batch_is_reported_and_the_rest_acknowledged(world, app):
    url = f"/trials/{world.trial_id}/entries/batch"
    batch = {"entries": [entry(), entry(symptoms=["fever", "AAA", "fever"]), entry(pain={"score": 99},
                                                                                      symptoms=["fever", 3])]}
    for expected in ("created", "duplicate"):  # the phone's retry gets its acknowledgements too
        answer = world.as_patient.post(url, json=batch)
        assert answer.status_code == 200, answer.get_json()
        results = answer.get_json()["results"]
        assert [r["status"] for r in results] == [expected, "invalid", "invalid"]
        assert "symptoms" in results[1]["errors"] and set(results[2]["errors"]) == {"pain", "symptoms"}
    with app.app_context():
        assert db.session.query(DiaryEntry).count() == 1


def test_a_batch_holding_a_new_entry_twice_stores_it_once(world, app):
    fresh = entry(score=2)
    results = world.as_patient.post(f"/trials/{world.trial_id}/entries/batch", json={"entries": [
        fresh, {**fresh, "client_id": fresh["client_id"].upper()}, {**fresh, "pain": {"score": 7}}]}).get_json()
    assert [r["status"] for r in results["results"]] == ["created", "duplicate", "conflict"]
    with app.app_context():
        assert db.session.query(DiaryEntry).count() == 1


@pytest.mark.parametrize("item", [None, "text", 7, [], True])
def test_an_item_that_is_not_an_entry_is_reported_on_its_own(world, app, item):
    good = entry()
    answer = world.as_patient.post(f"/trials/{world.trial_id}/entries/batch", json={"entries": [good, item]})
    assert answer.status_code == 200, answer.get_json()
    results = answer.get_json()["results"]
    assert [r["status"] for r in results] == ["created", "invalid"] and results[1]["errors"]
    with app.app_context():
        assert db.session.query(DiaryEntry).count() == 1


HUGE = "9" * 4301


@pytest.mark.parametrize("path", ["/api/v1/auth/login", "/api/v1/auth/enroll"])
def test_a_json_integer_of_thousands_of_digits_is_bad_input(client, path):
    answer = client.post(path, data='{"email": "a@example.test", "password": ' + HUGE + '}',
                         content_type="application/json")
    assert answer.status_code in (400, 422) and answer.get_json()["code"] in ("bad_request", "validation_error")


def test_a_huge_integer_in_a_signed_in_body_is_bad_input(world):
    answer = world.as_patient.client.post(
        f"/api/v1/trials/{world.trial_id}/entries", data='{"pain": {"score": ' + HUGE + '}}',
        content_type="application/json", headers={"Authorization": f"Bearer {world.as_patient.token}"})
    assert answer.status_code in (400, 422)


@pytest.mark.parametrize("alias", ["0{id}", "00{id}", "%D9%A1", "%2F{id}", "+{id}", "{id}%20", "%EF%BC%91"])
def test_a_path_id_has_one_spelling(world, alias):
    nurse = world.as_nurse
    assert world.trial_id == 1
    assert nurse.get(f"/trials/{world.trial_id}").status_code == 200
    answer = nurse.get(f"/trials/{alias.format(id=world.trial_id)}")
    assert answer.status_code == 404, alias
    assert answer.get_json()["code"] == "not_found"


# Finding 8: only a 429 carries the limiter's Retry-After ---------------------------------------------------

def test_sign_in_answers_carry_the_limiters_retry_after_on_429_only(world, app, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_LIMIT_PER_ACCOUNT_ADDRESS", "2 per 15 minutes")
    login = "/api/v1/auth/login"
    signed_in = world.client.post(login, json={"email": world.nurse, "password": "correct-horse-battery"})
    assert signed_in.status_code == 200 and "Retry-After" not in signed_in.headers
    assert signed_in.headers["X-RateLimit-Limit"]  # the limits are still told
    wrong = [world.client.post(login, json={"email": world.nurse, "password": "wrong-guess"}) for _ in range(3)]
    assert [w.status_code for w in wrong] == [401, 401, 429]
    assert all("Retry-After" not in w.headers for w in wrong[:2])
    assert 0 < int(wrong[2].headers["Retry-After"]) <= 15 * 60


def test_a_503_during_a_database_outage_carries_the_outages_retry_after(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    app = create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path),
                      "SQLALCHEMY_DATABASE_URI": f"postgresql+psycopg://postgres@127.0.0.1:{closed_port}/none",
                      "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"connect_timeout": 2}}})
    for _ in range(2):
        answer = app.test_client().post("/api/v1/auth/login", json={"email": "a@b.test", "password": "a-password-x"})
        assert answer.status_code == 503 and answer.headers["Retry-After"] == str(RETRY_AFTER_SECONDS)


# Finding 14: create-user on a database never migrated --------------------------------------------------------

def test_create_user_on_a_database_never_migrated_says_to_migrate(tmp_path):
    app = create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path),
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'new.sqlite'}"})
    args = ["create-user", "--email", "boss@clinic.test", "--role", "admin", "--clinic", "C", "--password-stdin"]
    answer = app.test_cli_runner().invoke(args=args, input="correct-horse-battery\n")
    assert answer.exit_code == 1 and "run `flask --app wsgi migrate` first" in answer.output
    assert "Traceback" not in answer.output and "no such table" not in answer.output
    assert app.test_cli_runner().invoke(args=["migrate"]).exit_code == 0
    created = app.test_cli_runner().invoke(args=args, input="correct-horse-battery\n")
    assert created.exit_code == 0 and "created admin user" in created.output


# Finding 9: another clinic's trial and a missing one do the same work -------------------------------------

@contextmanager
def _work_done(app):
    """The SQL statements run and the rows loaded into objects while the block runs."""
    statements, loaded = [], []

    def on_statement(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    def on_load(session, instance):
        loaded.append(type(instance).__name__)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", on_statement)
    event.listen(Session, "loaded_as_persistent", on_load)
    try:
        yield statements, loaded
    finally:
        event.remove(engine, "before_cursor_execute", on_statement)
        event.remove(Session, "loaded_as_persistent", on_load)


@pytest.mark.parametrize("path", ["/trials/{trial}", "/trials/{trial}/summary", "/trials/{trial}/report.pdf",
                                  "/trials/{trial}/fhir", "/patients/{patient}"])
def test_a_foreign_trial_and_a_missing_one_take_the_same_path(world, app, path):
    other_nurse = world.as_other_nurse
    work = {}
    for name, offset in (("foreign", 0), ("missing", 1000)):
        with _work_done(app) as (statements, loaded):
            answer = other_nurse.get(path.format(trial=world.trial_id + offset, patient=world.patient_id + offset))
        assert answer.status_code == 404 and answer.get_json()["message"] in ("No such trial.", "No such patient.")
        work[name] = (statements, loaded)
    assert work["foreign"] == work["missing"]
    assert not {"Trial", "Patient"} & set(work["foreign"][1])
