"""Whatever JSON arrives, the answer is never a 500 (hypothesis generates the bodies)."""

import uuid

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ..conftest import entry

scalars = st.none() | st.booleans() | st.integers(-10**12, 10**12) | st.floats(allow_nan=True) | st.text(max_size=30)
json_values = st.recursive(scalars, lambda children: st.lists(children, max_size=4)
                           | st.dictionaries(st.text(max_size=12), children, max_size=4), max_leaves=12)
FIELDS = ["client_id", "recorded_at", "pain", "function", "medications", "symptoms", "temperature_c",
          "sedation_score", "stimulation", "pgic", "note", "score", "decision", "rationale", "end_at", "status",
          "care_team", "therapy", "baseline", "protocol", "patient_id", "start_at", "url", "reason", "entries"]
near_valid = st.fixed_dictionaries({}, optional={name: json_values for name in FIELDS})
bodies = json_values | near_valid | near_valid.map(lambda d: {**entry(), **d})

FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(body=bodies)
def test_entry_writes_never_fail_with_500(world, body):
    patient = world.as_patient
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
def test_staff_writes_and_queries_never_fail_with_500(world, body, query):
    nurse, physician = world.as_nurse, world.as_physician
    for caller, method, url in ((nurse, "post", "/trials"), (nurse, "patch", f"/trials/{world.trial_id}"),
                                (nurse, "post", "/patients"), (physician, "post", f"/trials/{world.trial_id}/decision"),
                                (world.as_admin, "post", "/users"), (world.as_admin, "post", "/webhooks"),
                                (nurse, "post", "/alerts/1/acknowledge"), (world.as_patient, "post", "/me/devices")):
        response = getattr(caller, method)(url, json=body)
        assert response.status_code < 500, (method, url, body, response.get_json())
    for url in (f"/trials/{world.trial_id}/entries", "/alerts", "/trials", "/monitoring/trials"):
        response = nurse.get(url, query_string={"limit": query, "updated_since": query, "cursor": query,
                                                "status": query, "severity": query, "trial_id": query,
                                                "mine": query, "patient_id": query})
        assert response.status_code < 500, (url, query)
    assert nurse.post("/auth/login", json=body).status_code < 500
    assert nurse.post("/auth/enroll", json=body).status_code < 500
    assert nurse.get(f"/trials/{uuid.uuid4()}").status_code == 404
