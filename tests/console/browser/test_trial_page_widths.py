"""The trial page of issue 19 (points 3, 4 and 5) in Chromium: an intrathecal trial's pain, opioid and sedation
charts, which scroll sideways in their own region at phone width instead of shrinking; a medial branch block's
decision form in the block's words; and a revised final result in the block's notifications. Each page is scanned by
axe-core at 1280, 768 and 390 px (test_console_jobs._scan: no serious or critical violation, no page scrolling
sideways)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from api.extensions import db
from tests import factories
from tests.conftest import drain, entry

from .test_accessibility import sign_in_with
from .test_console_jobs import _scan

pytestmark = pytest.mark.integration

TARGET = {"region": "lumbar", "side": "left", "levels": ["L4-L5"]}


def _api(app, email: str):
    """An API client of the app, signed in as `email`: the services as the phone and the nurse's tools reach them."""
    client = app.test_client()
    login = client.post("/api/v1/auth/login", json={"email": email, "password": factories.PASSWORD})
    token = login.get_json()["access_token"]

    def call(method: str, path: str, body: dict) -> dict:
        answer = client.open(f"/api/v1{path}", method=method, json=body, headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code in (200, 201, 204), answer.get_data(as_text=True)
        return answer.get_json() if answer.data else {}
    return call


def _seed(app) -> dict:
    """An intrathecal trial with an hourly diary, and a medial branch block whose final result was sent, then revised
    when the patient voided most of its diary (as tests/api/test_final_result_messages.py makes it)."""
    now = datetime.now(UTC).replace(microsecond=0)
    clinic = factories.ClinicFactory(name="Widths Clinic")
    nurse = factories.UserFactory(clinic=clinic, role="nurse", display_name="Nora Nurse")
    physician = factories.UserFactory(clinic=clinic, role="physician", display_name="Dr Paula Reyes")
    patient = factories.PatientFactory(clinic=clinic, display_name="Mei Chen", mrn="RPC-0402")
    team = [nurse, physician]
    pump = factories.TrialFactory(patient=patient, care_team=team, therapy="intrathecal", timezone="America/Chicago",
                                  start_at=now - timedelta(hours=40), end_at=now + timedelta(hours=8),
                                  baseline={"pain": 8})
    block = factories.TrialFactory(patient=patient, care_team=team, therapy="medial_branch_block",
                                   timezone="America/Chicago", start_at=now - timedelta(hours=9),
                                   end_at=now + timedelta(hours=1), created_at=now - timedelta(hours=10),
                                   baseline={"pain": 8}, target=TARGET,
                                   agent="lidocaine", protocol_overrides={"relief_measure": "reported"})
    db.session.commit()
    ids = {"pump": pump.id, "block": block.id, "physician": physician.email}
    phone, desk = _api(app, patient.user.email), _api(app, nurse.email)
    phone("POST", f"/trials/{ids['pump']}/entries/batch", {"entries": [
        entry(now - timedelta(hours=h), 5, sedation_score=2 if h == 33 else 1) for h in (39, 33, 27, 21)]})
    posted = phone("POST", f"/trials/{ids['block']}/entries/batch", {"entries": [
        entry(now - timedelta(hours=9) + timedelta(minutes=m), 2, pain={"score": 2, "relief_percent": relief})
        for m, relief in ((15, 80), (30, 90), (45, 90), (60, 85), (120, 85), (180, 80))]})
    desk("PATCH", f"/trials/{ids['block']}", {"end_at": now.isoformat()})
    drain(app)  # the block's final result, sent: a positive block
    for result in posted["results"][:4]:
        phone("DELETE", f"/trials/{ids['block']}/entries/{result['id']}", {"reason": "wrong day"})
    drain(app)  # revised: insufficient data
    return ids


def test_the_trial_page_charts_decision_and_revision_at_every_width(pg, server, browser):
    from axe_playwright_python.sync_playwright import Axe

    saved = pg.config["DISPATCH_AT_ONCE"]
    pg.config["DISPATCH_AT_ONCE"] = False  # no worker here: drain() sends what is due, as in tests/api
    try:
        ids = _seed(pg)
    finally:
        pg.config["DISPATCH_AT_ONCE"] = saved
    axe = Axe()
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(60_000)
    page = context.new_page()
    sign_in_with(page, server, ids["physician"])
    problems: list[str] = []

    # Point 3: the intrathecal trial's three charts, and at phone width a region that scrolls, not a thumbnail.
    page.goto(f"{server}/console/trials/{ids['pump']}")
    alt = page.locator("img.charts").get_attribute("alt")
    assert alt.startswith("3 charts by hour: pain on the 0-10 scale")
    assert "opioid use in morphine milligram equivalents" in alt and "the highest sedation score" in alt
    region = page.get_by_role("region", name="Charts of the diary")
    page.set_viewport_size({"width": 390, "height": 900})
    widths = region.evaluate(
        "r => [r.scrollWidth, r.clientWidth, r.querySelector('img').getBoundingClientRect().width]")
    assert widths[0] > widths[1] and widths[2] > 390, widths
    problems += _scan(page, axe, "intrathecal trial")

    # Points 4 and 5: the block's decision in its own words, and its revised final result in its notifications.
    page.goto(f"{server}/console/trials/{ids['block']}")
    form = page.locator("#decision").inner_text()
    for words in ("Proceed to ablation or injection", "Do not proceed", "Repeat the block"):
        assert words in form
    told = page.locator("section[aria-labelledby=notifications-heading]").inner_text()
    assert "final result revised: positive block to insufficient data" in told
    problems += _scan(page, axe, "medial branch block")
    context.close()
    assert not problems, "\n".join(problems)
