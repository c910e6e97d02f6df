"""Bad input of every kind gets a clear 4xx naming the field, never a 500 and never silent acceptance."""

from datetime import UTC, datetime, timedelta

import pytest

from ..conftest import entry

IN_TEN_MINUTES = object()


def url(world):
    return f"/trials/{world.trial_id}/entries"


@pytest.mark.parametrize(("body", "field"), [
    ({"pain": {"score": 11}}, "pain"),
    ({"pain": {"score": -1}}, "pain"),
    ({"pain": {"score": "4"}}, "pain"),
    ({"pain": {"score": 4.5}}, "pain"),
    ({"pain": {"score": True}}, "pain"),
    ({"pain": {}}, "pain"),
    ({"pain": {"score": 4, "worst_24h": 3, "least_24h": 5}}, "pain"),
    ({"pain": {"score": 4, "mood": 3}}, "pain"),
    ({"symptoms": ["headache"]}, "symptoms"),
    ({"symptoms": ["fever", "fever"]}, "symptoms"),
    ({"symptoms": "fever"}, "symptoms"),
    ({"medications": [{"name": "oxycodone", "dose": 5, "unit": "tablets"}]}, "medications"),
    ({"medications": [{"name": "oxycodone", "dose": -5, "unit": "mg"}]}, "medications"),
    ({"medications": [{"name": "oxycodone", "dose": 5, "unit": "mg", "route": "by mouth"}]}, "medications"),
    ({"function": {"odi": 101}}, "function"),
    ({"function": {"steps": -1}}, "function"),
    ({"function": {"sleep_hours": 25}}, "function"),
    ({"temperature_c": 50}, "temperature_c"),
    ({"temperature_c": "NaN"}, "temperature_c"),
    ({"sedation_score": 0}, "sedation_score"),
    ({"pgic": 8}, "pgic"),
    ({"stimulation": {"coverage_percent": 120}}, "stimulation"),
    ({"note": "x" * 2001}, "note"),
    ({"patient_id": 1}, "patient_id"),
    ({"id": 5}, "id"),
    ({"client_id": "not-a-uuid"}, "client_id"),
    ({"recorded_at": "2026-11-21T08:30:00"}, "recorded_at"),
    ({"recorded_at": "yesterday"}, "recorded_at"),
    ({"recorded_at": IN_TEN_MINUTES}, "recorded_at"),
])
def test_a_bad_entry_is_refused_naming_its_field(world, body, field):
    if body.get("recorded_at") is IN_TEN_MINUTES:  # computed when the test runs, not when it was collected
        body = {"recorded_at": (datetime.now(UTC) + timedelta(minutes=10)).isoformat()}
    response = world.as_patient.post(url(world), json={**entry(), **body})
    assert response.status_code == 422, response.get_json()
    payload = response.get_json()
    assert payload["code"] == "validation_error" and payload["status"] == 422
    assert field in payload["errors"]


def test_a_clock_skew_of_a_few_minutes_is_accepted(world):
    soon = datetime.now(UTC) + timedelta(minutes=3)
    assert world.as_patient.post(url(world), json=entry(soon)).status_code == 201


@pytest.mark.parametrize("missing", ["client_id", "recorded_at", "pain"])
def test_required_fields_are_named_when_missing(world, missing):
    body = entry()
    del body[missing]
    response = world.as_patient.post(url(world), json=body)
    assert response.status_code == 422 and missing in response.get_json()["errors"]


def test_malformed_json_and_non_objects_are_4xx(world):
    patient = world.as_patient
    broken = patient.post(url(world), data="{not json", headers={"Content-Type": "application/json"})
    assert broken.status_code == 400 and broken.get_json()["code"]
    assert patient.post(url(world), json=[1, 2]).status_code == 422
    assert patient.post(url(world), json="text").status_code == 422


def test_an_oversized_body_is_413(world, app):
    huge = {"entries": [entry(note="x" * 2000) for _ in range(2100)]}
    response = world.as_patient.post(f"{url(world)}/batch", json=huge)
    assert response.status_code == 413 and response.get_json()["code"]


def test_a_batch_is_capped_at_500(world):
    response = world.as_patient.post(f"{url(world)}/batch", json={"entries": [entry() for _ in range(501)]})
    assert response.status_code == 422 and "entries" in response.get_json()["errors"]


def test_a_batch_explains_each_invalid_entry_and_stores_the_rest(world):
    good, bad, junk = entry(score=2), entry(symptoms=["unknown"]), "not an entry"
    response = world.as_patient.post(f"{url(world)}/batch", json={"entries": [good, bad, junk, {"client_id": 5}]})
    results = response.get_json()["results"]
    assert [r["status"] for r in results] == ["created", "invalid", "invalid", "invalid"]
    assert "symptoms" in results[1]["errors"]
    assert results[1]["client_id"] == bad["client_id"]
    listed = world.as_patient.get(url(world)).get_json()["items"]
    assert [e["client_id"] for e in listed] == [good["client_id"]]


def test_a_batch_with_the_same_client_id_twice_stores_it_once(world):
    first = entry(score=3)
    response = world.as_patient.post(f"{url(world)}/batch",
                                     json={"entries": [first, first, {**first, "pain": {"score": 9}}]})
    results = response.get_json()["results"]
    assert [r["status"] for r in results] == ["created", "duplicate", "conflict"]
    assert len({r["id"] for r in results}) == 1


@pytest.mark.parametrize(("body", "field"), [
    ({"therapy": "tens"}, "therapy"),
    ({"baseline": {"pain": 0}}, "baseline"),
    ({"baseline": {"pain": 11}}, "baseline"),
    ({"baseline": {"mme": 10}}, "baseline"),
    ({"baseline": {"pain": 7, "odi": 120}}, "baseline"),
    ({"protocol": {"min_pain_relief_percent": 150}}, "protocol"),
    ({"protocol": {"unknown_knob": 1}}, "protocol"),
    ({"protocol": {"require_function": "yes"}}, "protocol"),
    ({"timezone": "Mars/Olympus"}, "timezone"),
    ({"start_at": "2026-11-01T10:00:00"}, "start_at"),
    ({"end_at": "2020-01-01T00:00:00+00:00"}, "end_at"),
    ({"clinic_id": 3}, "clinic_id"),
    ({"status": "active"}, "status"),
    ({"care_team": [999999]}, "care_team"),
    ({"patient_id": 999999}, "patient_id"),
])
def test_a_bad_trial_is_refused_naming_its_field(world, body, field):
    start = datetime.now(UTC)
    base = {"patient_id": world.patient_id, "therapy": "scs", "start_at": start.isoformat(),
            "end_at": (start + timedelta(days=7)).isoformat(), "baseline": {"pain": 8}}
    response = world.as_nurse.post("/trials", json={**base, **body})
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["errors"]


@pytest.mark.parametrize(("body", "field"), [
    ({"date_of_birth": "2090-01-01"}, "date_of_birth"),
    ({"email": "not-an-email"}, "email"),
    ({"timezone": "EST5EDT-ish"}, "timezone"),
    ({"display_name": ""}, "display_name"),
    ({"role": "patient"}, "role"),
])
def test_a_bad_patient_is_refused_naming_its_field(world, body, field):
    base = {"display_name": "J. D.", "mrn": "X-1", "date_of_birth": "1950-01-01", "email": "jd@example.test",
            "timezone": "Europe/Berlin"}
    response = world.as_nurse.post("/patients", json={**base, **body})
    assert response.status_code == 422 and field in response.get_json()["errors"]


def test_query_parameters_are_validated(world):
    nurse = world.as_nurse
    assert nurse.get(f"{url(world)}?limit=0").status_code == 422
    assert nurse.get(f"{url(world)}?limit=abc").status_code == 422
    assert nurse.get(f"{url(world)}?updated_since=yesterday").status_code == 422
    assert nurse.get(f"{url(world)}?cursor=garbage").status_code == 422
    assert nurse.get("/trials?status=sleeping").status_code == 422


def test_a_void_needs_a_reason(world):
    created = world.as_patient.post(url(world), json=entry()).get_json()
    response = world.as_patient.delete(f"{url(world)}/{created['id']}")
    assert response.status_code == 422 and "reason" in response.get_json()["errors"]


def test_a_correction_cannot_remove_pain_or_change_the_client_id(world):
    created = world.as_patient.post(url(world), json=entry()).get_json()
    entry_url = f"{url(world)}/{created['id']}"
    assert "pain" in world.as_patient.patch(entry_url, json={"pain": None}).get_json()["errors"]
    assert "client_id" in world.as_patient.patch(entry_url, json={"client_id": created["client_id"]}).get_json()[
        "errors"]
    assert world.as_patient.patch(entry_url, json={}).status_code == 422
