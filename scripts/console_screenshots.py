"""Renders screenshots of the clinic console's worklist and trial page to docs/console-*.png.

    .venv/bin/python scripts/console_screenshots.py

Everything happens in a throwaway SQLite instance: a clinic's morning entered through the API (patients,
trials, diaries with a few red flags), processed by the same service functions a worker runs, then served
over HTTP and photographed in Debian's Chromium (apt-get install chromium) with Playwright.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import threading
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PASSWORD = "screenshot-password"
PATIENTS = [  # name, MRN, therapy, days since the implant, trial days, pain by day, red flag of today
    ("Rosa Alvarez", "RPS-004217", "scs", 4, 7, [5, 3, 3, 2], ["new_weakness"]),
    ("Walter Brennan", "RPS-004388", "scs", 3, 7, [6, 6, 7], ["fever", "wound_drainage"]),
    ("Mei Chen", "RPS-004402", "intrathecal", 1, 3, [6, 4], None),
    ("Dolores Okafor", "RPS-004415", "scs", 6, 7, [7, 4, 4, 3, 3, 2], None),
    ("Samuel Novak", "RPS-004431", "scs", 2, 7, [8, 7], ["dressing_off"]),
    ("Agnes Lindqvist", "RPS-004456", "scs", 5, 5, [6, 5, 3, 3, 3], None),
]


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="console-screenshots-"))
    os.environ.update({"INSTANCE_DIR": str(folder), "LOG_LEVEL": "WARNING",
                       "SECRET_KEY": "console-screenshots-secret-key-long-enough"})
    from api import create_app
    from api.cli import migrate_database
    from api.extensions import db
    from api.models import EvaluationRequest, OutboxMessage
    from api.services import diary
    from api.services.evaluations import claim_due_requests, run_evaluations
    from api.services.users import bootstrap_user, create_staff_user

    app = create_app()
    migrate_database(app.config["SQLALCHEMY_DATABASE_URI"])
    with app.app_context():
        nurse = bootstrap_user(clinic_name="Riverside Pain & Spine Center", email="nina@riverside.test",
                               role="nurse", password=PASSWORD)
        nurse.display_name = "Nina Okafor, RN"
        db.session.commit()
        physician = create_staff_user(clinic_id=nurse.clinic_id, email="dr.lee@riverside.test", role="physician",
                                      password=PASSWORD, display_name="Dr. Samuel Lee")
        nurse_id, physician_id = nurse.id, physician.id

    client = app.test_client()
    staff = {"Authorization": "Bearer " + client.post("/api/v1/auth/login", json={
        "email": "nina@riverside.test", "password": PASSWORD}).get_json()["access_token"]}
    now = datetime.now(UTC)
    first_trial = None
    for n, (name, mrn, therapy, days_in, length, pains, flag) in enumerate(PATIENTS):
        created = client.post("/api/v1/patients", headers=staff, json={
            "display_name": name, "mrn": mrn, "date_of_birth": f"19{50 + n}-0{n + 1}-1{n}",
            "email": f"patient{n}@example.test", "timezone": "America/New_York"}).get_json()
        phone = {"Authorization": "Bearer " + client.post("/api/v1/auth/enroll", json={
            "enrollment_code": created["enrollment_code"], "password": PASSWORD}).get_json()["access_token"]}
        unit = timedelta(days=1) if therapy == "scs" else timedelta(hours=8)
        start = now - days_in * unit - timedelta(hours=2)
        trial = client.post("/api/v1/trials", headers=staff, json={
            "patient_id": created["patient"]["id"], "therapy": therapy, "device": "Percutaneous trial leads",
            "start_at": start.isoformat(), "end_at": (start + length * unit).isoformat(),
            "baseline": {"pain": 8, "mme": 30, "odi": 48}, "care_team": [nurse_id, physician_id]}).get_json()
        first_trial = first_trial or trial["id"]
        for day, pain in enumerate(pains, start=1):
            moment = min(start + day * unit - timedelta(hours=3), now - timedelta(minutes=30))
            content = {"client_id": str(uuid.uuid4()), "recorded_at": moment.isoformat(), "pain": {"score": pain},
                       "function": {"odi": 48 - 4 * day}}
            if day == 2:
                content["medications"] = [{"name": "oxycodone", "dose": 5, "unit": "mg", "route": "oral"}]
            client.post(f"/api/v1/trials/{trial['id']}/entries", headers=phone, json=content)
        if flag:
            client.post(f"/api/v1/trials/{trial['id']}/entries", headers=phone, json={
                "client_id": str(uuid.uuid4()), "recorded_at": (now - timedelta(minutes=20)).isoformat(),
                "pain": {"score": 6}, "symptoms": flag})

    with app.app_context():  # what beat and the workers do: safety checks, then evaluations
        for message_id in [m.id for m in db.session.query(OutboxMessage).all()]:
            diary.follow_up_entry(message_id=message_id)
        db.session.query(EvaluationRequest).update({"due_at": now})
        db.session.commit()
        run_evaluations(trial_ids=claim_due_requests())
        db.session.remove()

    _photograph(app, first_trial)
    shutil.rmtree(folder, ignore_errors=True)


def _photograph(app, trial_id: int) -> None:
    from playwright.sync_api import sync_playwright
    from werkzeug.serving import make_server

    http = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{http.server_port}"
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        page = browser.new_page(viewport={"width": 1280, "height": 760})
        page.goto(f"{base}/console/sign-in")
        page.get_by_label("Email").fill("nina@riverside.test")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{base}/console/")
        page.screenshot(path=str(ROOT / "docs" / "console-worklist.png"))
        page.goto(f"{base}/console/trials/{trial_id}")
        page.locator("img.charts").evaluate("img => img.decode()")
        page.screenshot(path=str(ROOT / "docs" / "console-trial.png"), full_page=True)
        browser.close()
    http.shutdown()
    print("wrote docs/console-worklist.png and docs/console-trial.png")


if __name__ == "__main__":
    main()
