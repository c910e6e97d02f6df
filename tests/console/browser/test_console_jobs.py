"""The jobs of issue 19 in Chromium, one walk over shared pages: a physician without an NPI and the admin who adds it,
pre-trial documentation and the clinic's settings, alert cards that tell the story (and say when typing pauses their
updates), search and filters, and the worklist and the Acknowledge button at phone width. Every page it changes is
scanned by axe-core at 1280, 768 and 390 px (no serious or critical violation, no sideways scrolling)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import requests

from api.extensions import db
from tests import factories
from tests.conftest import drain, entry

from .test_accessibility import sign_in_with

pytestmark = pytest.mark.integration

WIDTHS = (1280, 768, 390)


def _scan(page, axe, label: str) -> list[str]:
    problems = []
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        for violation in axe.run(page).response["violations"]:
            if violation["impact"] in ("serious", "critical"):
                targets = [node["target"] for node in violation["nodes"]][:3]
                problems.append(f"{label} at {width}px: {violation['id']} ({violation['impact']}) {targets}")
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        if overflow > 0:
            problems.append(f"{label} at {width}px: the page scrolls sideways by {overflow}px")
    page.set_viewport_size({"width": 1280, "height": 900})
    return problems


def _seed():
    clinic = factories.ClinicFactory(name="Jobs Clinic")
    nurse = factories.UserFactory(clinic=clinic, role="nurse", display_name="Nora Nurse")
    physician = factories.UserFactory(clinic=clinic, role="physician", display_name="Dr Paula Reyes", npi=None)
    admin = factories.UserFactory(clinic=clinic, role="admin", display_name="Ada Admin")
    patient = factories.PatientFactory(clinic=clinic, display_name="Rosa Alvarez", mrn="RPC-0042")
    trial = factories.TrialFactory(patient=patient, care_team=[nurse, physician], timezone="America/Chicago",
                                   start_at=datetime.now(UTC) - timedelta(days=3))
    db.session.commit()
    return {"nurse": nurse.email, "physician": physician.email, "physician_id": physician.id, "admin": admin.email,
            "patient": patient.user.email, "trial_id": trial.id, "patient_id": patient.id}


def test_the_jobs_of_issue_19_in_the_browser(pg, server, browser):
    from axe_playwright_python.sync_playwright import Axe

    people = _seed()
    login = requests.post(f"{server}/api/v1/auth/login", json={"email": people["patient"],
                                                               "password": factories.PASSWORD}, timeout=10)
    phone = {"Authorization": f"Bearer {login.json()['access_token']}"}
    trial, patient = people["trial_id"], people["patient_id"]
    posted = requests.post(f"{server}/api/v1/trials/{trial}/entries", headers=phone, timeout=10,
                           json=entry(temperature_c=38.7, note="The wound feels warm"))
    assert posted.status_code == 201, posted.text
    drain(pg)
    axe = Axe()
    problems: list[str] = []

    # 1. The physician without an NPI is told before the form; nothing to type and lose.
    doctor = browser.new_context(viewport={"width": 1280, "height": 900})
    doctor.set_default_timeout(60_000)
    page = doctor.new_page()
    sign_in_with(page, server, people["physician"])
    page.goto(f"{server}/console/trials/{trial}")
    assert "has no National Provider Identifier" in page.locator("[data-decision-closed]").inner_text()
    assert page.get_by_role("button", name="Record the decision").count() == 0
    problems += _scan(page, axe, "trial without an NPI")

    # 1 and 2. The admin sets her NPI on the colleague's page, and the clinic's settings on one page.
    admin = browser.new_context(viewport={"width": 1280, "height": 900})
    admin.set_default_timeout(60_000)
    office = admin.new_page()
    sign_in_with(office, server, people["admin"], landing="/console/admin/staff")
    problems += _scan(office, axe, "staff")
    office.get_by_role("link", name=f"Edit {people['physician']}: name, NPI, password, deactivate").click()
    office.get_by_label("National Provider Identifier (NPI)").fill("1234567890")
    office.get_by_role("button", name="Save the name and NPI").click()
    assert "check digit" in office.locator("#npi-error").inner_text()
    problems += _scan(office, axe, "colleague with an error")
    office.get_by_label("National Provider Identifier (NPI)").fill("1234567893")
    office.get_by_role("button", name="Save the name and NPI").click()
    office.locator(".flash-success").wait_for()
    office.get_by_role("button", name="Give a temporary password").click()
    temporary = office.locator("[data-temporary-password] code").inner_text()
    problems += _scan(office, axe, "colleague with a temporary password")
    office.get_by_role("link", name="Clinic settings").click()
    office.get_by_label("Postal address").fill("1 Main Street\nAustin, TX 78701")
    office.get_by_label("Clinic's timezone").select_option("America/Chicago")
    office.get_by_role("button", name="Save the clinic settings").click()
    office.locator(".flash-success").wait_for()
    problems += _scan(office, axe, "clinic settings")
    admin.close()
    page.goto(f"{server}/console/sign-in")  # the temporary password ended her earlier sign-ins
    page.get_by_label("Email").fill(people["physician"])
    page.get_by_label("Password").fill(temporary)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{server}/console/account/password")  # a temporary password opens only this page
    problems += _scan(page, axe, "choosing her own password")
    page.get_by_label("Temporary password").fill(temporary)
    page.locator("#f-new_password").fill("Lantern-river-42")
    page.locator("#f-repeat_password").fill("Lantern-river-42")
    page.get_by_role("button", name="Save the new password").click()
    page.wait_for_url(f"{server}/console/")
    page.goto(f"{server}/console/trials/{trial}")
    assert page.get_by_role("button", name="Record the decision").count() == 1
    assert "still running" in page.locator("[data-trial-running]").inner_text()
    problems += _scan(page, axe, "trial with the decision form")
    doctor.close()

    # 2, 10, 13. The nurse: documentation and readiness, the alert card's story, search and filters.
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(60_000)
    nurse = context.new_page()
    sign_in_with(nurse, server, people["nurse"])
    nurse.goto(f"{server}/console/trials/{trial}")
    assert "Not ready" in nurse.locator("#readiness").inner_text()
    nurse.get_by_role("link", name="Edit the pre-trial documentation").click()
    nurse.get_by_label("Code 1").first.fill("M96.1")
    nurse.get_by_label("Description 1").first.fill("Postlaminectomy syndrome")
    nurse.get_by_label("Date", exact=True).first.fill("2099-01-01")
    nurse.get_by_label("Clinician").fill("Dr Lee")
    nurse.get_by_role("button", name="Save the documentation").click()
    assert nurse.locator("#psychological_evaluation-date-error").count() == 1
    assert nurse.get_by_label("Code 1").first.input_value() == "M96.1"  # kept
    problems += _scan(nurse, axe, "documentation with errors")
    nurse.get_by_label("Date", exact=True).first.fill("2026-01-10")
    nurse.get_by_label("Cleared for the implant").select_option("yes")
    nurse.get_by_role("button", name="Save the documentation").click()
    nurse.wait_for_url(f"{server}/console/trials/{trial}#readiness")
    assert "Postlaminectomy" in nurse.locator("#readiness").inner_text()
    problems += _scan(nurse, axe, "trial with readiness")

    nurse.goto(f"{server}/console/alerts")
    card = nurse.locator("li.alert-card").first
    assert "temperature 38.7 °C" in card.inner_text() and "The wound feels warm" in card.inner_text()
    assert "What to do" in card.inner_text() and "CST" in card.inner_text()
    problems += _scan(nurse, axe, "alerts with cards")
    card.get_by_label("Note for alert", exact=False).fill("Calling her now")
    status = nurse.locator("[data-live-status]")
    status.filter(has_text="Updates paused while you type a note").wait_for()

    nurse.goto(f"{server}/console/patients?q=rpc-0042")
    assert nurse.get_by_role("link", name="Rosa Alvarez").count() == 1
    problems += _scan(nurse, axe, "patients searched")
    nurse.goto(f"{server}/console/patients/{patient}")
    problems += _scan(nurse, axe, "patient with contact details")
    nurse.goto(f"{server}/console/?mine=yes&therapy=scs")
    assert nurse.locator(f'tr[data-trial="{trial}"]').count() == 1
    problems += _scan(nurse, axe, "worklist filtered")
    nurse.goto(f"{server}/console/?status=decided")
    problems += _scan(nurse, axe, "decided trials")

    # 11. The new-trial form of an intrathecal trial proposes day buckets for three days; 12. the code page.
    nurse.goto(f"{server}/console/trials/new?therapy=intrathecal&patient_id={patient}")
    assert nurse.get_by_label("Timezone").input_value() == "America/Chicago"  # the clinic's, set by the admin
    start = datetime.now(UTC) + timedelta(hours=2)
    nurse.get_by_label("Start (implant, bolus or block)").fill(start.strftime("%Y-%m-%dT%H:%M"))
    nurse.get_by_label("End", exact=True).fill((start + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M"))
    nurse.get_by_label("Pain, 1-10").fill("8")
    nurse.get_by_role("button", name="Create the trial").click()
    nurse.locator("[data-day-buckets]").wait_for()
    problems += _scan(nurse, axe, "new intrathecal trial with day buckets proposed")
    nurse.goto(f"{server}/console/patients/{patient}")
    nurse.get_by_role("button", name="Issue a new enrollment code").click()
    code = nurse.locator("[data-enrollment-code]").inner_text()
    nurse.reload()  # a reload reads the code again; it never issues another
    assert nurse.locator("[data-enrollment-code]").inner_text() == code
    problems += _scan(nurse, axe, "enrollment code")

    # 12. A minute before the idle sign-out the page warns; "Stay signed in" keeps the session.
    touched = nurse.evaluate("""fetch(document.body.dataset.keepAlive, {method: "POST", headers: {
        "X-CSRFToken": document.querySelector("meta[name=csrf-token]").content}}).then(r => r.status)""")
    assert touched == 204  # the idle clock starts now (a page within a minute of the last one does not restart it)
    saved_idle = pg.config["CONSOLE_IDLE"]
    pg.config["CONSOLE_IDLE"] = timedelta(seconds=12)  # the warning comes at half of it: 6 s, waited for, not slept
    try:
        nurse.goto(f"{server}/console/patients")
        warning = nurse.locator("[data-session-warning]")
        warning.wait_for(state="visible", timeout=30_000)
        assert "signed out in a minute" in warning.inner_text()
        warning.get_by_role("button", name="Stay signed in").click()
        warning.wait_for(state="hidden")
    finally:
        pg.config["CONSOLE_IDLE"] = saved_idle
    nurse.goto(f"{server}/console/")
    assert nurse.url == f"{server}/console/"  # still signed in

    # 14. At 390 px: every worklist cell and the trial's Acknowledge button are on the screen.
    nurse.set_viewport_size({"width": 390, "height": 844})
    nurse.goto(f"{server}/console/")
    for cell in nurse.locator(f'tr[data-trial="{trial}"] td').all():
        box = cell.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390, cell.get_attribute("data-label")
    nurse.goto(f"{server}/console/trials/{trial}")
    button = nurse.get_by_role("button", name="Acknowledge").first
    button.scroll_into_view_if_needed()
    box = button.bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390 and box["height"] >= 44
    context.close()
    assert problems == [], "\n".join(problems)
