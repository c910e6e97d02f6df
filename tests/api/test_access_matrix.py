"""Every route of the OpenAPI document, called by every kind of caller (issue 10): anonymous callers get 401 unless
the operation is public; a patient, another patient, each staff role of the clinic and of another clinic are
called with the clinic's real objects, and a caller who may not see an object gets exactly the answer a missing
object gives (same status, same body): nothing is readable or writable across the line, and nothing is a 500.
Every answer is one the document lists for the operation, with the body the document describes (issue 20).

The routes come from the document itself, so a route added later is in the matrix without editing this file.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest

from api.extensions import db
from api.models import Alert, Clinic, DiaryEntry, ExpectedFinding, Webhook

from ..conftest import ApiClient, Documented, drain, entry, sign_in
from ..factories import PASSWORD, UserFactory

MISSING = 987654
SIGN_OUT = "/api/v1/auth/logout"
OWN_PROFILE = "/api/v1/me"  # the caller's own record: a patient of clinic A reads their own name there
METHODS = ("get", "post", "put", "patch", "delete")
OWN = ("patient", "nurse", "physician", "admin")
FOREIGN = ("second_patient", "other_nurse", "other_physician", "other_admin")


def _bodies(ids: dict) -> dict[tuple[str, str], dict | None]:
    """A valid body per operation, naming the clinic's objects (replaced by a missing id for the comparison)."""
    start = datetime.now(UTC) - timedelta(days=1)
    return {
        ("post", "/api/v1/trials"): {"patient_id": ids["patient_id"], "therapy": "scs", "start_at": start.isoformat(),
                                     "end_at": (start + timedelta(days=7)).isoformat(), "baseline": {"pain": 8},
                                     "care_team": [ids["nurse_id"]]},
        ("patch", "/api/v1/trials/{trial_id}"): {"end_at": (start + timedelta(days=8)).isoformat()},
        ("post", "/api/v1/trials/{trial_id}/entries"): entry(),
        ("post", "/api/v1/trials/{trial_id}/entries/batch"): {"entries": [entry()]},
        ("patch", "/api/v1/trials/{trial_id}/entries/{entry_id}"): {"pain": {"score": 3}},
        ("delete", "/api/v1/trials/{trial_id}/entries/{entry_id}"): {"reason": "entered twice"},
        ("post", "/api/v1/trials/{trial_id}/decision"): {"decision": "implant", "rationale": "Relief over threshold."},
        ("post", "/api/v1/alerts/{alert_id}/acknowledge"): {"note": "Called the patient."},
        ("post", "/api/v1/trials/{trial_id}/expected-findings"): {
            "rule": "wound_concern", "until": (start + timedelta(days=10)).isoformat(),
            "reason": "Seen at the dressing change."},
        ("post", "/api/v1/me/devices"): {"platform": "ios", "token": "token-of-a-phone-1234"},
        ("patch", "/api/v1/patients/{patient_id}"): {"mobile_number": "+12015550123", "sms_consent": True},
        ("patch", "/api/v1/me/texting"): {"sms_consent": True},
        ("post", "/api/v1/auth/sign-in-link"): {"mobile_number": "+12015550123"},
    }


@pytest.fixture
def clinic(world, app):
    """The world's clinic A with one object of every kind, and every kind of caller, signed in once each."""
    patient = world.as_patient
    created = patient.post(f"/trials/{world.trial_id}/entries", json=entry(symptoms=["new_weakness"])).get_json()
    drain(app)
    with app.app_context():
        clinic_a = db.session.query(Clinic).filter_by(name="Clinic A").one()
        clinic_b = db.session.query(Clinic).filter_by(name="Clinic B").one()
        hook = Webhook(clinic_id=clinic_a.id, url="https://pager.example.com/hook", secret="s" * 40)
        db.session.add(hook)
        finding = ExpectedFinding(clinic_id=clinic_a.id, trial_id=world.trial_id, rule="pain_spike",
                                  until=datetime.now(UTC) + timedelta(days=2), reason="Flare after the lead placement",
                                  created_by=world.nurse_id)
        db.session.add(finding)
        other_physician = UserFactory(clinic=clinic_b, role="physician")
        other_admin = UserFactory(clinic=clinic_b, role="admin")
        db.session.commit()
        ids = {"trial_id": world.trial_id, "patient_id": world.patient_id, "nurse_id": world.nurse_id,
               "entry_id": created["id"], "webhook_id": hook.id, "finding_id": finding.id,
               "alert_id": db.session.query(Alert).filter_by(trial_id=world.trial_id).one().id}
        assert db.session.get(DiaryEntry, created["id"]) is not None
        emails = {"other_physician": other_physician.email, "other_admin": other_admin.email}
    _also_a_patient_of_clinic_b(world)
    callers = {"anonymous": ApiClient(world.client), "patient": patient}
    for role in ("nurse", "physician", "admin", "second_patient", "other_nurse"):
        callers[role] = sign_in(world.client, getattr(world, role))
    for role, email in emails.items():
        callers[role] = sign_in(world.client, email)
    return ids, callers


def _also_a_patient_of_clinic_b(world) -> None:
    """Clinic A's patient is clinic B's too (issue 18): B registered them and they joined B's record with their
    password, so B's staff have a record, a trial and entries of the same person; A's still answer as missing."""
    staff_b = world.as_other_nurse
    registered = staff_b.post("/patients", json={"display_name": "R. Alvarez", "mrn": "B-1", "email": world.patient,
                                                 "date_of_birth": "1958-04-12", "timezone": "America/Chicago"})
    assert registered.status_code == 201, registered.get_json()
    joined = world.client.post("/api/v1/auth/enroll", json={"enrollment_code": registered.get_json()["enrollment_code"],
                                                            "password": PASSWORD})
    assert joined.status_code == 200, joined.get_json()
    start = datetime.now(UTC) - timedelta(days=1)
    trial = staff_b.post("/trials", json={
        "patient_id": registered.get_json()["patient"]["id"], "therapy": "scs", "start_at": start.isoformat(),
        "end_at": (start + timedelta(days=7)).isoformat(), "baseline": {"pain": 7}}).get_json()
    person = ApiClient(world.client, joined.get_json()["access_token"])
    assert person.post(f"/trials/{trial['id']}/entries", json=entry()).status_code == 201


def _operations(client) -> list[tuple[str, str, bool]]:
    spec = client.get("/api/v1/openapi.json").get_json()
    public = lambda op: op.get("security", spec.get("security")) == []  # noqa: E731
    operations = [(method, path, public(op)) for path, item in spec["paths"].items()
                  for method, op in item.items() if method in METHODS]
    return sorted(operations, key=lambda op: op[1] == SIGN_OUT)  # signing out ends every caller's session: last


def _fill(path: str, ids: dict) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: str(ids.get(m.group(1), MISSING)), path)


def _as_missing(body, ids: dict):
    """The body with every id of the clinic's objects replaced by one that exists nowhere."""
    text = json.dumps(body)
    for value in sorted({v for v in ids.values() if isinstance(v, int)}, key=lambda v: -len(str(v))):
        text = re.sub(rf"(?<![\w.-]){value}(?![\w.-])", str(MISSING), text)
    return json.loads(text)


def test_every_route_for_every_caller(app, clinic):
    ids, callers = clinic
    missing = {key: MISSING for key in ids}
    bodies = _bodies(ids)
    operations = _operations(callers["anonymous"].client)
    assert len(operations) >= 35  # the whole document, not a handful
    documented = Documented(app)
    seen_foreign = 0
    for method, path, public in operations:
        body = bodies.get((method, path))
        if path == SIGN_OUT:  # every caller is still signed in: the answers above were not refusals of a token
            for name, caller in callers.items():
                assert (caller.get("/api/v1/trials").status_code == 401) == (name == "anonymous"), name
        for name, caller in callers.items():
            answer = getattr(caller, method)(_fill(path, ids), json=body)
            where = (method, path, name)
            assert answer.status_code < 500, (where, answer.get_data(as_text=True)[:300])
            documented.check(method, path, answer)
            if name == "anonymous" and not public:
                assert answer.status_code == 401, where
            if name not in FOREIGN or public:
                continue
            if "{" in path or (body is not None and _as_missing(body, ids) != body):
                # An object of the clinic, or a body naming one: exactly what a missing one gives.
                control = getattr(caller, method)(_fill(path, missing), json=_as_missing(body, ids))
                assert (answer.status_code, answer.get_json()) == (control.status_code, control.get_json()), where
                seen_foreign += 1
            elif method == "get" and answer.status_code == 200 and path != OWN_PROFILE:
                _assert_nothing_of_clinic_a(answer.get_data(as_text=True), app, where)
    assert seen_foreign > 50


def _assert_nothing_of_clinic_a(text: str, app, where) -> None:
    """A list a foreign caller reads holds nothing of clinic A's patients (a person who is clinic B's patient too
    has their email at B, as B registered it: nothing else of A's record)."""
    from api.models import Patient

    with app.app_context():
        clinic_a = db.session.query(Clinic).filter_by(name="Clinic A").one()
        at_b = {p.user_id for p in db.session.query(Patient).filter(Patient.clinic_id != clinic_a.id)}
        markers = [m for p in db.session.query(Patient).filter_by(clinic_id=clinic_a.id)
                   for m in (p.display_name, p.mrn, *(() if p.user_id in at_b else (p.user.email,)))]
    for marker in markers:
        assert marker not in text, (where, marker)
