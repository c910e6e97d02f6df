"""The console's part of a nurse's day (issue 22): late diary entries and the share sent in time on the trial page,
expected findings added and ended there, expected alerts marked, and what the alerts cost on the alerts page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from api.extensions import db
from api.models import Alert, ExpectedFinding
from tests.conftest import drain, entry

from .helpers import console_user


def test_the_trial_page_marks_late_entries_and_says_the_share_sent_in_time(app, world):
    path = f"/trials/{world.trial_id}/entries"
    world.as_patient.post(path, json=entry(datetime.now(UTC) - timedelta(hours=30)))
    world.as_patient.post(path, json=entry())
    drain(app)
    html = console_user(app, world.nurse).get(f"/console/trials/{world.trial_id}").get_data(as_text=True)
    assert "1 of 2 entries was sent within 24 hours of the time it describes." in html
    assert html.count("Sent late</strong>") == 1


def test_staff_add_and_end_an_expected_finding_and_see_expected_alerts(app, world):
    nurse = console_user(app, world.nurse)
    page = f"/console/trials/{world.trial_id}"
    until = (datetime.now(ZoneInfo("America/New_York")) + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    refused = nurse.post(f"{page}/expected-findings", {"rule": "infection", "until": until, "reason": "Known"},
                         page=page, follow_redirects=True)
    assert "What is expected: Must be one of" in refused.get_data(as_text=True)
    too_far = (datetime.now(ZoneInfo("America/New_York")) + timedelta(days=40)).strftime("%Y-%m-%dT%H:%M")
    refused = nurse.post(f"{page}/expected-findings", {"rule": "wound_concern", "until": too_far, "reason": "Known"},
                         page=page, follow_redirects=True)
    assert "Until: Must be at most 30 days ahead." in refused.get_data(as_text=True)
    made = nurse.post(f"{page}/expected-findings", {"rule": "wound_concern", "until": until,
                                                    "reason": "Redness seen at the dressing change"}, page=page)
    assert made.status_code == 302 and made.headers["Location"].endswith("#expected-findings")
    forged = nurse.client.post(f"{page}/expected-findings", data={"rule": "pain_spike", "until": until,
                                                                  "reason": "x", "csrf_token": "forged"})
    assert forged.status_code == 400  # without the page's CSRF token: refused
    world.as_patient.post(f"/trials/{world.trial_id}/entries", json=entry(symptoms=["wound_redness"]))
    drain(app)
    html = nurse.get(page).get_data(as_text=True)
    assert "Redness seen at the dressing change" in html and html.count("End now") == 1
    assert '<strong class="expected">Expected</strong>: told no one' in html
    with app.app_context():
        finding_id = db.session.execute(select(ExpectedFinding.id)).scalar_one()
        alert_id = db.session.execute(select(Alert.id)).scalar_one()
    seen = nurse.post(f"/console/alerts/{alert_id}/acknowledge", {"note": "Known redness", "back": page}, page=page,
                      follow_redirects=True).get_data(as_text=True)
    assert '<strong class="expected">Expected</strong>: told no one; seen by' in seen
    ended = nurse.post(f"{page}/expected-findings/{finding_id}/end", {}, page=page, follow_redirects=True)
    html = ended.get_data(as_text=True)
    assert "No longer expected: Wound redness or swelling." in html and "End now" not in html and "ended " in html
    assert console_user(app, world.other_nurse).post(f"{page}/expected-findings/{finding_id}/end", {},
                                                     page="/console/").status_code == 404


def test_the_alerts_page_shows_what_the_alerts_cost(app, world):
    world.as_patient.post(f"/trials/{world.trial_id}/entries", json=entry(temperature_c=38.6))
    drain(app)
    html = console_user(app, world.nurse).get("/console/alerts").get_data(as_text=True)
    cost = html[html.index('id="cost-heading"'):]
    assert "What the alerts cost, last 30 days" in cost and "Possible infection" in cost
    assert "<td>1</td><td>0</td><td>0</td><td>1</td>" in cost  # raised, expected, acknowledged, still open
