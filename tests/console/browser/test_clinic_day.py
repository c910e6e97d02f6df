"""The clinic's day, end to end, in Chromium: the nurse, the patient's phone (the HTTP API), a real worker,
and the physician's decision. The worklist and alerts pages must show the red flag without a reload."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import requests

from api.extensions import db
from api.services.users import bootstrap_user, create_staff_user
from tests.integration.conftest import wait_for

pytestmark = pytest.mark.integration

PASSWORD = "a-long-clinic-password"


def _staff(pg):
    nurse = bootstrap_user(clinic_name="Riverside Pain Clinic", email="nora.nurse@clinic.test", role="nurse",
                           password=PASSWORD)
    nurse.display_name = "Nora Nurse"
    physician = create_staff_user(clinic_id=nurse.clinic_id, email="paul.physician@clinic.test", role="physician",
                                  password=PASSWORD, display_name="Dr Paul Physician")
    physician.npi = "1234567893"  # a signed decision carries the physician's NPI
    db.session.commit()
    return nurse.email, physician.email


def sign_in(page, base: str, email: str) -> None:
    page.goto(f"{base}/console/sign-in")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/console/")


def _entry(at: datetime, score: int, **extra) -> dict:
    return {"client_id": str(uuid.uuid4()), "recorded_at": at.isoformat(), "pain": {"score": score}, **extra}


def test_a_clinic_day_in_the_browser(pg, server, browser, workers):
    nurse_email, physician_email = _staff(pg)
    workers.start("console-day")
    csp_problems: list[str] = []

    nurse_context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    nurse_context.set_default_timeout(60_000)  # a loaded CI machine: generous waits, never sleeps
    nurse = nurse_context.new_page()
    nurse.on("console", lambda m: csp_problems.append(m.text) if "Content Security Policy" in m.text else None)
    sign_in(nurse, server, nurse_email)

    # Register the patient and read the enrollment code (text and QR).
    nurse.get_by_role("link", name="Patients").click()
    nurse.get_by_role("link", name="Register a patient").click()
    nurse.get_by_label("Name").fill("Rosa Alvarez")
    nurse.get_by_label("Medical record number (MRN)").fill("RPC-0042")
    nurse.get_by_label("Date of birth").fill("1961-03-14")
    nurse.get_by_label("Sex for the medical record").select_option("female")
    nurse.get_by_label("Patient's email").fill("rosa.alvarez@example.test")
    nurse.get_by_label("Timezone").fill("Europe/Paris")
    nurse.get_by_role("button", name="Register and show the enrollment code").click()
    code = nurse.locator("[data-enrollment-code]").inner_text().strip()
    assert len(code) == 14 and nurse.locator("figure.qr svg").count() == 1

    # A trial with the physician on the care team, started four days ago.
    nurse.get_by_role("link", name="Start a trial for Rosa Alvarez").click()
    start = datetime.now(UTC) - timedelta(days=4, hours=2)
    end = datetime.now(UTC) + timedelta(days=3)
    assert nurse.get_by_label("Therapy", exact=True).input_value() == "scs"  # the SCS form by default
    nurse.get_by_label("Device").fill("Trial leads, 2 x 8 contacts")
    nurse.get_by_label("Start (implant, bolus or block)").fill(start.strftime("%Y-%m-%dT%H:%M"))
    nurse.get_by_label("End", exact=True).fill(end.strftime("%Y-%m-%dT%H:%M"))
    nurse.get_by_label("Timezone").select_option("UTC")
    nurse.get_by_label("Pain, 1-10").fill("8")
    nurse.get_by_label("Opioid use, MME a day").fill("30")
    nurse.get_by_label("Oswestry Disability Index, 0-100").fill("48")
    nurse.get_by_label("Dr Paul Physician (physician)").check()
    nurse.get_by_role("button", name="Create the trial").click()
    nurse.wait_for_url(f"{server}/console/trials/*")
    trial_id = int(nurse.url.rsplit("/", 1)[1])
    assert "Paul Physician (physician)" in nurse.locator("dl.facts").inner_text()

    # The worklist and the alerts page are open; they must change without a reload.
    nurse.get_by_role("link", name="Worklist").click()
    assert nurse.locator(f'tr[data-trial="{trial_id}"]').count() == 1
    alerts_page = nurse_context.new_page()
    alerts_page.goto(f"{server}/console/alerts")
    assert "No open alerts." in alerts_page.content()
    for page in (nurse, alerts_page):
        page.evaluate("window.__notReloaded = true")

    # The patient's phone enrolls and sends its diary, the last entry with a red flag.
    api = f"{server}/api/v1"
    enrolled = requests.post(f"{api}/auth/enroll", json={"enrollment_code": code, "password": "rosas-own-password"},
                             timeout=10)
    assert enrolled.status_code == 200, enrolled.text
    phone = {"Authorization": f"Bearer {enrolled.json()['access_token']}"}
    for day in (1, 2, 3):
        sent = requests.post(f"{api}/trials/{trial_id}/entries", headers=phone, timeout=10,
                             json=_entry(start + timedelta(days=day, hours=3), 3, function={"odi": 30},
                                         medications=[{"name": "oxycodone", "dose": 10, "unit": "mg"}]))
        assert sent.status_code == 201, sent.text
    red_flag = requests.post(f"{api}/trials/{trial_id}/entries", headers=phone, timeout=10,
                             json=_entry(datetime.now(UTC) - timedelta(minutes=2), 4, symptoms=["new_weakness"]))
    assert red_flag.status_code == 201, red_flag.text

    row = nurse.locator(f'tr[data-trial="{trial_id}"]')
    row.get_by_text("Critical × 1").wait_for(timeout=120_000)
    alerts_page.get_by_text("New neurological deficit").wait_for(timeout=60_000)
    assert nurse.evaluate("window.__notReloaded") is True
    assert alerts_page.evaluate("window.__notReloaded") is True
    assert "sev-critical" in row.inner_html()

    # The nurse acknowledges with a note.
    alerts_page.get_by_label("Note for alert").first.fill("Phoned Rosa: seen in clinic at 3 pm")
    alerts_page.get_by_role("button", name="Acknowledge").first.click()
    alerts_page.get_by_text("No open alerts.").wait_for()
    acknowledged = alerts_page.locator("#done-heading + .table-wrap").inner_text()
    assert "Phoned Rosa: seen in clinic at 3 pm" in acknowledged and "Nora Nurse" in acknowledged
    # The worklist follows, still without a reload: the critical alert of the day stays on the row, answered.
    row.get_by_text("Critical, acknowledged").wait_for(timeout=60_000)
    assert "by Nora Nurse" in row.inner_text() and "Critical × 1" not in row.inner_text()
    assert nurse.evaluate("window.__notReloaded") is True

    # The lead comes out today: the nurse moves the end; the worker writes the final evaluation.
    nurse.goto(f"{server}/console/trials/{trial_id}/edit")
    nurse.get_by_label("New end (UTC)").fill((datetime.now(UTC) - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M"))
    nurse.get_by_role("button", name="Move the end").click()
    nurse.get_by_text("End date moved.").wait_for()

    # The physician reads the criteria, records the decision and downloads the signed PDF.
    doctor_context = browser.new_context(viewport={"width": 768, "height": 1000}, accept_downloads=True)
    doctor_context.set_default_timeout(60_000)
    doctor = doctor_context.new_page()
    sign_in(doctor, server, physician_email)
    doctor.get_by_role("link", name="Rosa Alvarez").click()
    doctor.wait_for_url(f"{server}/console/trials/{trial_id}")

    def final_shown():
        doctor.reload()
        return "(final, evaluated" in doctor.locator("#evaluation-heading + p").inner_text()

    wait_for(final_shown, timeout=120, interval=1, message="the final evaluation on the trial page")
    criteria = doctor.locator("ul.criteria").inner_text()
    assert "Pain relief" in criteria and "from the pre-trial baseline" in criteria and "_" not in criteria
    assert doctor.locator("img.charts").evaluate("img => img.complete && img.naturalWidth > 0")
    doctor.get_by_label("Proceed to a permanent spinal cord stimulator implant", exact=True).check()
    doctor.get_by_label("Rationale").fill("Relief above 50 %, function better; proceed to the permanent implant.")
    doctor.get_by_role("button", name="Record the decision").click()
    doctor.get_by_text("Decision recorded: Proceed to a permanent spinal cord stimulator implant.").wait_for()
    with doctor.expect_download() as download:  # the report as signed (the current one opens inline)
        doctor.get_by_role("link", name="Signed report, as the physician signed it (PDF)").click()
    with open(download.value.path(), "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"
    assert csp_problems == []
    nurse_context.close()
    doctor_context.close()
