"""Renders the signed trial report of the worked example (docs/clinical-rules.md §2.12) to
docs/sample-report-<page>.png, every page.

    .venv/bin/python scripts/sample_report.py

Everything happens in a throwaway SQLite instance: the clinic's admin sets its letterhead and the physician's
NPI, the nurse enters the pre-trial documentation, the example diary is entered through the API, evaluated by the
same code a worker runs, decided and signed by its physician, and the report is fetched like a client would.
"""

from __future__ import annotations

import os
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="sample-report-"))
    os.environ.update({"INSTANCE_DIR": str(folder), "LOG_LEVEL": "WARNING",
                       "SECRET_KEY": "sample-report-secret-key-long-enough-for-hs256"})
    from api import create_app
    from api.cli import migrate_database
    from api.extensions import db
    from api.models import Clinic, EvaluationRequest, Patient, User
    from api.services.evaluations import claim_due_requests, run_evaluations
    from api.services.passwords import hash_password
    from tests import worked_example

    app = create_app()
    migrate_database(app.config["SQLALCHEMY_DATABASE_URI"])
    password = "sample-password"
    with app.app_context():
        clinic = Clinic(name="Riverside Pain & Spine Center")
        nurse = User(clinic=clinic, email="nurse@riverside.test", role="nurse", display_name="Nina Okafor, RN",
                     password_hash=hash_password(password))
        physician = User(clinic=clinic, email="dr.lee@riverside.test", role="physician",
                         display_name="Dr. Samuel Lee", password_hash=hash_password(password))
        admin = User(clinic=clinic, email="admin@riverside.test", role="admin", display_name="Clinic admin",
                     password_hash=hash_password(password))
        patient_user = User(clinic=clinic, email="patient@example.test", role="patient",
                            password_hash=hash_password(password))
        patient = Patient(clinic=clinic, user=patient_user, display_name="Rosa Alvarez", mrn="RPS-004217",
                          date_of_birth=datetime(1961, 2, 3).date(), timezone="America/New_York")
        db.session.add_all([clinic, nurse, physician, admin, patient])
        db.session.commit()
        patient_id, nurse_id, physician_id = patient.id, nurse.id, physician.id

    client = app.test_client()

    def token(email):
        return {"Authorization": "Bearer " + client.post("/api/v1/auth/login", json={
            "email": email, "password": password}).get_json()["access_token"]}

    nurse_h, doctor_h, patient_h = token("nurse@riverside.test"), token("dr.lee@riverside.test"), token(
        "patient@example.test")
    admin_h = token("admin@riverside.test")
    _ok(client.patch("/api/v1/clinic", headers=admin_h, json={
        "address": "1200 Riverside Drive, Suite 300\nColumbus, OH 43215", "npi": "1245319599"}))
    _ok(client.patch(f"/api/v1/users/{physician_id}", headers=admin_h, json={"npi": "1234567893"}))
    trial = client.post("/api/v1/trials", headers=nurse_h, json={
        **worked_example.TRIAL, "patient_id": patient_id, "device": "8-contact percutaneous lead, external trial IPG",
        "care_team": [nurse_id, physician_id]}).get_json()
    _ok(client.put(f"/api/v1/trials/{trial['id']}/documentation", headers=nurse_h, json=DOCUMENTATION))
    client.post(f"/api/v1/trials/{trial['id']}/entries/batch", headers=patient_h,
                json={"entries": worked_example.entries()})
    with app.app_context():
        db.session.query(EvaluationRequest).update({"due_at": datetime.now(UTC)})
        db.session.commit()
        trial_ids = claim_due_requests()
        db.session.commit()
        run_evaluations(trial_ids=trial_ids)
    _ok(client.post(f"/api/v1/trials/{trial['id']}/decision", headers=doctor_h, json={
        "decision": "implant",
        "rationale": "57.5 % pain relief over 6 days with ODI improved by 14 points and lower opioid use; "
                     "no complications. Proceed to permanent SCS implant."}))
    pdf = client.get(f"/api/v1/trials/{trial['id']}/report.pdf", headers=nurse_h).data

    import pypdfium2

    for old in (ROOT / "docs").glob("sample-report*.png"):
        old.unlink()
    for number, page in enumerate(pypdfium2.PdfDocument(pdf), start=1):
        target = ROOT / "docs" / f"sample-report-{number}.png"
        page.render(scale=1.6).to_pil().save(target)
        print(f"wrote {target.relative_to(ROOT)}")
    print(f"({len(pdf)} bytes of PDF)")


def _ok(response):
    assert response.status_code < 300, response.get_json()
    return response


# The worked example's pre-trial documentation, as the nurse enters it (PUT /trials/{id}/documentation).
DOCUMENTATION = {
    "indications": [{"code": "M96.1", "description": "Postlaminectomy syndrome, not elsewhere classified"},
                    {"code": "M54.16", "description": "Radiculopathy, lumbar region"}],
    "procedures": [{"code": "63650", "description": "Percutaneous implantation of neurostimulator electrode array, "
                                                    "epidural (trial lead)"}],
    "conservative_treatments": [
        {"treatment": "Physical therapy", "duration": 16, "unit": "weeks"},
        {"treatment": "Gabapentin and NSAIDs", "duration": 14, "unit": "months"},
        {"treatment": "Lumbar transforaminal epidural steroid injections (3)", "duration": 8, "unit": "months"},
    ],
    "psychological_evaluation": {"date": "2026-09-14", "clinician": "Dr. Maya Chen, PsyD", "cleared": True},
    "substance_use_screening": {"date": "2026-09-14", "result": "negative"},
    "imaging": [{"date": "2026-07-30", "modality": "mri", "region": "lumbar spine"}],
}


if __name__ == "__main__":
    main()
