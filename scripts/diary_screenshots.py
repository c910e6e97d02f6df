"""Renders screenshots of the patient's diary page at a phone's width to docs/diary-*.png.

    .venv/bin/python scripts/diary_screenshots.py

In a throwaway SQLite instance: a clinic with its phone, a nurse, a patient registered through the API (the
enrollment code, as the QR code would carry it) on an SCS trial. The patient enrolls on the page from the QR
link, records two entries and writes a goal; then the page is photographed in Debian's Chromium (apt-get install
chromium) with Playwright at 390 px: the day's page, and the record form with a red flag ticked.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PASSWORD = "screenshot-password"


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="diary-screenshots-"))
    os.environ.update({"INSTANCE_DIR": str(folder), "LOG_LEVEL": "WARNING",
                       "SECRET_KEY": "diary-screenshots-secret-key-long-enough"})
    from playwright.sync_api import sync_playwright
    from werkzeug.serving import make_server

    from api import create_app
    from api.cli import migrate_database
    from api.extensions import db
    from api.models import Clinic
    from api.services.users import bootstrap_user
    from tests.browser import CHROMIUM_ARGS, chromium_path

    app = create_app({"RATELIMIT_ENABLED": False})
    migrate_database(app.config["SQLALCHEMY_DATABASE_URI"])
    with app.app_context():
        nurse = bootstrap_user(clinic_name="Riverside Pain & Spine Center", email="nina@riverside.test",
                               role="nurse", password=PASSWORD)
        db.session.get(Clinic, nurse.clinic_id).phone = "+12015550123"
        db.session.commit()
    http = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{http.server_port}"
    api = app.test_client()
    token = api.post("/api/v1/auth/login", json={"email": "nina@riverside.test", "password": PASSWORD}).get_json()
    staff = {"Authorization": f"Bearer {token['access_token']}"}
    created = api.post("/api/v1/patients", headers=staff, json={
        "display_name": "Rosa Alvarez", "mrn": "RPS-004217", "date_of_birth": "1958-04-12",
        "email": "rosa@example.test", "timezone": "America/New_York"}).get_json()
    start = datetime.now(UTC) - timedelta(days=2, hours=3)
    api.post("/api/v1/trials", headers=staff, json={
        "patient_id": created["patient"]["id"], "therapy": "scs", "start_at": start.isoformat(),
        "end_at": (start + timedelta(days=7)).isoformat(), "baseline": {"pain": 8}})
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
            context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2,
                                          is_mobile=True, has_touch=True, service_workers="allow",
                                          timezone_id="America/New_York")
            page = context.new_page()
            page.goto(f"{base}/diary/enroll#code={created['enrollment_code']}")
            page.get_by_label("Choose a password").fill("my dog likes long walks")
            page.get_by_role("button", name="Start my diary").tap()
            page.get_by_role("heading", name="Today", exact=True).wait_for()
            page.goto(f"{base}/diary/goals")
            page.get_by_label("Goal 1").fill("Walk to the mailbox and back")
            page.get_by_label("Goal 2").fill("Sleep through the night")
            page.get_by_role("button", name="Save my goals").tap()
            page.get_by_role("heading", name="Today", exact=True).wait_for()
            for score in (4, 3):
                page.get_by_role("link", name="Record how you feel now").click()
                page.locator(f"label:has(input[name='pain.score'][value='{score}'])").click()
                page.get_by_role("button", name="Save", exact=True).tap()
                page.get_by_role("heading", name="Today", exact=True).wait_for()
            page.locator("li[data-state=sent]").nth(1).wait_for()
            page.evaluate("document.getElementById('status').textContent = ''")
            page.screenshot(path=str(ROOT / "docs" / "diary-today.png"))
            page.get_by_role("link", name="Record how you feel now").click()
            page.locator("label:has(input[name='pain.score'][value='5'])").click()
            page.get_by_text("Fluid or pus coming from the wound", exact=True).click()
            page.locator("[data-call-now=high]").evaluate("panel => panel.scrollIntoView({block: 'center'})")
            page.screenshot(path=str(ROOT / "docs" / "diary-record.png"))
            browser.close()
    finally:
        http.shutdown()
        shutil.rmtree(folder, ignore_errors=True)
    print("wrote docs/diary-today.png and docs/diary-record.png")


if __name__ == "__main__":
    main()
