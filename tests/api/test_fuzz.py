"""Whatever JSON arrives, the answer is never a 500 (hypothesis generates the bodies)."""

import os
import uuid
from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.domain.vocabulary import SYMPTOMS

from ..conftest import entry

scalars = st.none() | st.booleans() | st.integers(-10**12, 10**12) | st.floats(allow_nan=True) | st.text(max_size=30)
json_values = st.recursive(scalars, lambda children: st.lists(children, max_size=4)
                           | st.dictionaries(st.text(max_size=12), children, max_size=4), max_leaves=12)
FIELDS = ["client_id", "recorded_at", "pain", "function", "medications", "symptoms", "temperature_c",
          "sedation_score", "stimulation", "pgic", "note", "score", "decision", "rationale", "end_at", "status",
          "care_team", "therapy", "baseline", "protocol", "patient_id", "start_at", "url", "reason", "entries", "rule",
          "until"]
near_valid = st.fixed_dictionaries({}, optional={name: json_values for name in FIELDS})
bodies = json_values | near_valid | near_valid.map(lambda d: {**entry(), **d})

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "100"))  # a longer run: FUZZ_EXAMPLES=5000 ./test tests/api/test_fuzz.py
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture
def signed_in(world):
    """Each caller signed in once per test, not once per example: a sign-in is an Argon2 verification (slow on
    purpose), and the examples are about the bodies, not the sign-in."""
    return SimpleNamespace(patient=world.as_patient, nurse=world.as_nurse, physician=world.as_physician,
                           admin=world.as_admin)


@FUZZ
@given(body=bodies)
def test_entry_writes_never_fail_with_500(world, signed_in, body):
    patient = signed_in.patient
    base = f"/trials/{world.trial_id}/entries"
    created = patient.post(base, json=entry()).get_json()
    for method, url, payload in (("post", base, body), ("post", f"{base}/batch", {"entries": [body, body]}),
                                 ("post", f"{base}/batch", body), ("patch", f"{base}/{created['id']}", body),
                                 ("delete", f"{base}/{created['id']}", body)):
        response = getattr(patient, method)(url, json=payload)
        assert response.status_code < 500, (method, url, payload, response.get_json())
        assert response.is_json


@FUZZ
@given(body=bodies, query=st.text(max_size=40))
def test_staff_writes_and_queries_never_fail_with_500(world, signed_in, body, query):
    nurse, physician = signed_in.nurse, signed_in.physician
    for caller, method, url in ((nurse, "post", "/trials"), (nurse, "patch", f"/trials/{world.trial_id}"),
                                (nurse, "post", "/patients"), (physician, "post", f"/trials/{world.trial_id}/decision"),
                                (signed_in.admin, "post", "/users"), (signed_in.admin, "post", "/webhooks"),
                                (nurse, "post", "/alerts/1/acknowledge"), (signed_in.patient, "post", "/me/devices"),
                                (nurse, "post", f"/trials/{world.trial_id}/expected-findings"),
                                (nurse, "delete", f"/trials/{world.trial_id}/expected-findings/1")):
        response = getattr(caller, method)(url, json=body)
        assert response.status_code < 500, (method, url, body, response.get_json())
    for url in (f"/trials/{world.trial_id}/entries", "/alerts", "/trials", "/monitoring/trials", "/alerts/statistics"):
        response = nurse.get(url, query_string={"limit": query, "updated_since": query, "cursor": query,
                                                "status": query, "severity": query, "trial_id": query,
                                                "mine": query, "patient_id": query, "days": query})
        assert response.status_code < 500, (url, query)
    assert nurse.post("/auth/login", json=body).status_code < 500
    assert nurse.post("/auth/enroll", json=body).status_code < 500
    assert nurse.get(f"/trials/{uuid.uuid4()}").status_code == 404


@FUZZ
@given(words=st.lists(st.sampled_from(SYMPTOMS) | st.text(max_size=8), max_size=8))
def test_any_list_of_symptoms_is_stored_or_refused_by_name(world, words):
    """Known and unknown words, repeated or not ("fever", "AAA", "fever" was a 500, in a batch after the rest
    was stored): stored, or refused naming `symptoms`, by POST, PATCH and in a batch."""
    patient = world.as_patient
    base = f"/trials/{world.trial_id}/entries"
    valid = len(set(words)) == len(words) and set(words) <= set(SYMPTOMS)
    posted = patient.post(base, json=entry(symptoms=words))
    assert posted.status_code == (201 if valid else 422), posted.get_json()
    stored = posted.get_json() if valid else patient.post(base, json=entry()).get_json()
    patched = patient.patch(f"{base}/{stored['id']}", json={"symptoms": words})
    assert patched.status_code == (200 if valid else 422), patched.get_json()
    batch = patient.post(f"{base}/batch", json={"entries": [entry(), entry(symptoms=words)]})
    assert batch.status_code == 200, batch.get_json()
    results = batch.get_json()["results"]
    assert [r["status"] for r in results] == ["created", "created" if valid else "invalid"]
    if not valid:
        assert "symptoms" in posted.get_json()["errors"] and "symptoms" in results[1]["errors"]
