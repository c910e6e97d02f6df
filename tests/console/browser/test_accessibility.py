"""axe-core scan of every console page in Chromium, at 1280 and 768 px: no serious or critical violation, and
no horizontal scrolling of the page (wide tables scroll inside their own box).

axe-core comes from the axe-playwright-python test dependency (its bundled axe.min.js): test-only, never
served by the product."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import requests

from api.extensions import db
from tests import factories
from tests.conftest import drain, entry

pytestmark = pytest.mark.integration

WIDTHS = (1280, 768)


def _seed(pg):
    """A clinic with a nurse, a physician, an admin and a patient whose trial has entries, an alert and a result."""
    clinic = factories.ClinicFactory(name="Axe Clinic")
    nurse = factories.UserFactory(clinic=clinic, role="nurse", display_name="Nora Nurse")
    physician = factories.UserFactory(clinic=clinic, role="physician", display_name="Dr Paul Physician")
    admin = factories.UserFactory(clinic=clinic, role="admin", display_name="Ada Admin")
    patient = factories.PatientFactory(clinic=clinic, display_name="Rosa Alvarez")
    trial = factories.TrialFactory(patient=patient, care_team=[nurse, physician], timezone="Europe/Paris",
                                   start_at=datetime.now(UTC) - timedelta(days=4))
    db.session.commit()
    return {"nurse": nurse.email, "physician": physician.email, "admin": admin.email,
            "patient": patient.user.email, "trial_id": trial.id, "patient_id": patient.id}


def _scan(page, axe, label: str) -> list[str]:
    problems = []
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        results = axe.run(page)
        for violation in results.response["violations"]:
            if violation["impact"] in ("serious", "critical"):
                targets = [node["target"] for node in violation["nodes"]][:3]
                problems.append(f"{label} at {width}px: {violation['id']} ({violation['impact']}) {targets}")
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        if overflow > 0:
            problems.append(f"{label} at {width}px: the page scrolls sideways by {overflow}px")
    return problems


def test_every_console_page_passes_axe_at_both_widths(pg, server, browser):
    from axe_playwright_python.sync_playwright import Axe

    people = _seed(pg)
    login = requests.post(f"{server}/api/v1/auth/login", json={"email": people["patient"],
                                                               "password": factories.PASSWORD}, timeout=10)
    phone = {"Authorization": f"Bearer {login.json()['access_token']}"}
    for day in (1, 2, 3):
        requests.post(f"{server}/api/v1/trials/{people['trial_id']}/entries", headers=phone, timeout=10,
                      json=entry(datetime.now(UTC) - timedelta(days=4 - day), score=3, function={"odi": 30}))
    requests.post(f"{server}/api/v1/trials/{people['trial_id']}/entries", headers=phone, timeout=10,
                  json=entry(score=5, temperature_c=38.4, symptoms=["wound_redness"]))
    drain(pg)

    axe = Axe()
    problems: list[str] = []
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(60_000)
    page = context.new_page()
    page.goto(f"{server}/console/sign-in")
    problems += _scan(page, axe, "sign-in")
    page.get_by_label("Email").fill(people["nurse"])
    page.get_by_label("Password").fill("wrong-password-for-the-error")
    page.get_by_role("button", name="Sign in").click()
    problems += _scan(page, axe, "sign-in with an error")

    context.clear_cookies()
    page.goto(f"{server}/console/sign-in")
    page.get_by_label("Email").fill(people["nurse"])
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{server}/console/")
    trial, patient = people["trial_id"], people["patient_id"]
    for label, path in [("worklist", "/console/"), ("alerts", "/console/alerts"),
                        ("trial", f"/console/trials/{trial}"),
                        ("new trial", f"/console/trials/new?patient_id={patient}"),
                        ("edit trial", f"/console/trials/{trial}/edit"), ("patients", "/console/patients"),
                        ("new patient", "/console/patients/new"), ("patient", f"/console/patients/{patient}"),
                        ("not found", "/console/trials/999999")]:
        page.goto(f"{server}{path}")
        problems += _scan(page, axe, label)
    page.goto(f"{server}/console/patients/new")
    page.get_by_role("button", name="Register and show the enrollment code").click()
    problems += _scan(page, axe, "new patient with errors")
    page.goto(f"{server}/console/trials/new")
    page.get_by_role("button", name="Create the trial").click()
    problems += _scan(page, axe, "new trial with errors")
    page.goto(f"{server}/console/patients/{patient}")
    page.get_by_role("button", name="Issue a new enrollment code").click()
    page.locator("[data-enrollment-code]").wait_for()
    problems += _scan(page, axe, "enrollment code")
    page.goto(f"{server}/console/alerts")
    page.get_by_role("button", name="Acknowledge").first.click()
    problems += _scan(page, axe, "alerts after acknowledging")
    context.close()

    doctor = browser.new_context(viewport={"width": 1280, "height": 900})
    page = doctor.new_page()
    sign_in_with(page, server, people["physician"])
    page.goto(f"{server}/console/trials/{trial}")
    problems += _scan(page, axe, "trial with the decision form")
    doctor.close()

    admin = browser.new_context(viewport={"width": 1280, "height": 900})
    page = admin.new_page()
    sign_in_with(page, server, people["admin"], landing="/console/admin/staff")
    problems += _scan(page, axe, "staff")
    page.goto(f"{server}/console/admin/webhooks")
    problems += _scan(page, axe, "webhooks")
    pg.config["WEBHOOK_ALLOW_PRIVATE"] = True
    try:
        page.get_by_label("Address").fill("http://127.0.0.1:9/receiver")
        page.get_by_role("button", name="Register").click()
        page.locator("[data-webhook-secret]").wait_for()
    finally:
        pg.config["WEBHOOK_ALLOW_PRIVATE"] = False
    problems += _scan(page, axe, "webhook registered")
    admin.close()
    assert problems == []


def sign_in_with(page, base: str, email: str, landing: str = "/console/") -> None:
    page.goto(f"{base}/console/sign-in")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}{landing}")

