"""The diary page's JSON endpoints call the API's services with the patient's `Actor`: the same idempotent entries,
corrections, voids, profile, push subscriptions and audit rows as the API; the page's public files carry no
patient data and the form comes from the therapy registry."""

from __future__ import annotations

import base64
import json

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import select

from api.domain.safety import findings
from api.extensions import db
from api.models import AuditEvent, Device, DiaryEntry, OutboxMessage
from tests.conftest import entry

from .helpers import diary_page


def subscription(endpoint: str = "https://93.184.215.14/push/abc") -> dict:
    """A browser's push subscription: its P-256 public key and auth secret (made here), and its endpoint."""
    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    raw = key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    b64 = lambda data: base64.urlsafe_b64encode(data).decode().rstrip("=")  # noqa: E731
    return {"endpoint": endpoint, "expirationTime": None,
            "keys": {"p256dh": b64(raw), "auth": b64(b"0123456789abcdef")}}


def test_entries_are_idempotent_and_audited_as_through_the_api(app, world):
    page = diary_page(app, world.patient)
    path = f"trials/{world.trial_id}/entries"
    body = entry(score=3, symptoms=["new_weakness"])
    assert page.post(path, body).status_code == 201
    replay = page.post(path, body)
    assert replay.status_code == 200 and replay.get_json()["pain"] == {"score": 3}
    conflict = page.post(path, {**body, "pain": {"score": 9}})
    assert conflict.status_code == 409 and conflict.get_json()["errors"] == {
        "client_id": ["Already recorded with different content."]}
    invalid = page.post(path, {**entry(), "pain": {"score": 11}, "symptoms": ["hiccups"]})
    assert invalid.status_code == 422 and set(invalid.get_json()["errors"]) == {"pain", "symptoms"}
    assert page.post(path, [1, 2]).status_code == 422
    assert page.post("trials/999999/entries", entry()).status_code == 404
    with app.app_context():
        stored = db.session.execute(select(DiaryEntry)).scalars().all()
        assert len(stored) == 1 and stored[0].auth_session_id is not None
        assert db.session.execute(select(OutboxMessage)).scalars().all()  # the alert follows, as for the API
        actions = db.session.execute(select(AuditEvent.action, AuditEvent.outcome, AuditEvent.actor_role)).all()
    assert ("entry.create", "success", "patient") in actions and ("entry.create", "conflict", "patient") in actions


def test_my_entries_corrections_and_voids(app, world):
    page = diary_page(app, world.patient)
    path = f"trials/{world.trial_id}/entries"
    stored = page.post(path, entry(score=6, function={"odi": 40, "sleep_hours": 5})).get_json()
    listed = page.get(f"{path}?limit=500").get_json()["items"]
    assert [item["id"] for item in listed] == [stored["id"]]
    corrected = page.patch(f"{path}/{stored['id']}", {"pain": {"score": 5}, "function": {"odi": 40, "sleep_hours": 7}})
    assert corrected.status_code == 200 and corrected.get_json()["version"] == 2
    assert page.patch(f"{path}/{stored['id']}", {}).status_code == 422
    assert page.delete(f"{path}/{stored['id']}", {}).status_code == 422  # a reason is needed
    voided = page.delete(f"{path}/{stored['id']}", {"reason": "Recorded twice"})
    assert voided.status_code == 200 and voided.get_json()["voided"] is True
    assert page.get(f"{path}?limit=9999").status_code == 422


def test_the_patient_writes_goals_and_changes_language(app, world):
    page = diary_page(app, world.patient)
    saved = page.patch("me", {"goals": ["walk to the mailbox", "  sleep through the night  "], "language": "es"})
    assert saved.status_code == 200
    assert saved.get_json()["goals"] == ["walk to the mailbox", "sleep through the night"]
    assert saved.get_json()["language"] == "es"
    too_many = page.patch("me", {"goals": ["a", "b", "c", "d"]})
    assert too_many.status_code == 422 and "goals" in too_many.get_json()["errors"]
    assert "goals" in page.patch("me", {"goals": ["x" * 121]}).get_json()["errors"]
    assert page.patch("me", {"language": "fr"}).get_json()["errors"] == {"language": ["Must be one of: en, es."]}
    assert page.patch("me", {"id": 3}).status_code == 422  # no mass assignment
    assert page.patch("me", {"goals": ["ok\u0000"]}).status_code == 422
    with app.app_context():
        actions = [a for (a,) in db.session.execute(select(AuditEvent.action).where(
            AuditEvent.action.like("patient.profile%")))]
    assert "patient.profile_update" in actions
    # Staff read them through the API; the nurse sees what the patient wrote.
    patient = world.as_nurse.get(f"/patients/{world.patient_id}").get_json()
    assert patient["goals"] == ["walk to the mailbox", "sleep through the night"] and patient["language"] == "es"


def test_a_browser_subscribes_to_reminders(app, world):
    page = diary_page(app, world.patient)
    assert page.post("devices", {"subscription": subscription()}).status_code == 201
    assert page.post("devices", {"subscription": {**subscription(), "expirationTime": 5}}).status_code == 201
    refused = page.post("devices", {"subscription": subscription("https://10.1.2.3/push")})
    assert refused.status_code == 422 and "token" in refused.get_json()["errors"]
    with app.app_context():
        devices = db.session.execute(select(Device)).scalars().all()
        assert {d.platform for d in devices} == {"web"} and len(devices) == 2
        assert all(json.loads(d.token)["endpoint"].startswith("https://") for d in devices)


def test_the_form_comes_from_the_registry_with_the_safety_rules_red_flags(app, world):
    client = app.test_client()
    form = client.get("/diary/forms/scs.json")
    assert form.status_code == 200 and form.headers["Cache-Control"] == "no-cache"
    fields = {f["path"]: f for f in form.get_json()["fields"]}
    assert fields["pain.score"]["required"]
    assert fields["pain.score"]["ends"] == ["No pain", "Worst pain you can imagine"]
    flags = fields["symptoms"]["red_flags"]
    for symptom, severity in flags.items():  # each one is what the safety rules say of that symptom alone
        assert severity in {f.severity for f in findings({"pain": {"score": 0}, "symptoms": [symptom]},
                                                         baseline_pain=10, therapy="scs")}
    assert flags["new_weakness"] == "critical" and flags["fever"] == "high" and "nausea" not in flags
    block = client.get("/diary/forms/medial_branch_block.json").get_json()
    assert block["kind"] == "timepoints" and "lead_dislodged" not in json.dumps(block)
    pump = {f["path"]: f for f in client.get("/diary/forms/intrathecal.json").get_json()["fields"]}
    assert pump["sedation_score"]["red_flags"] == {"3": "critical", "4": "critical"}
    assert client.get("/diary/forms/nothing.json").status_code == 404


def test_the_shell_and_its_files_carry_no_patient_data_and_follow_the_browsers_language(app, world):
    client = app.test_client()
    shell = client.get("/diary/record", headers={"Accept-Language": "es-MX,es;q=0.9,en;q=0.5"})
    assert shell.status_code == 200 and '<html lang="es">' in shell.get_data(as_text=True)
    assert "script-src 'self'" in shell.headers["Content-Security-Policy"]
    english = client.get("/diary/", headers={"Accept-Language": "de-DE,de"})
    assert '<html lang="en">' in english.get_data(as_text=True)
    worker = client.get("/diary/sw.js")
    assert worker.status_code == 200 and worker.mimetype == "text/javascript"
    assert "/diary/api/" in worker.get_data(as_text=True)
    texts = client.get("/diary/texts/es.json").get_json()
    assert texts["Save"] == "Guardar" and texts["No pain"] == "Sin dolor"
    assert client.get("/diary/texts/fr.json").status_code == 404
    assert client.get("/diary/manifest.webmanifest").get_json()["scope"] == "/diary/"
