"""The console's pages on the test client: access, audit rows, and each page doing its job."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from api.extensions import db
from api.models import Alert, AuditEvent, Decision, Notification, Patient, Trial, User, Webhook
from tests.conftest import drain, entry

from .helpers import console_user


def _audit(app, action=None):
    with app.app_context():
        query = select(AuditEvent).order_by(AuditEvent.id)
        if action:
            query = query.where(AuditEvent.action == action)
        return list(db.session.execute(query).scalars())


def test_worklist_shows_the_open_trial_with_alerts_in_words(app, world):
    as_patient = world.as_patient
    as_patient.post(f"/trials/{world.trial_id}/entries", json=entry(score=9, symptoms=["new_weakness"]))
    drain(app)
    nurse = console_user(app, world.nurse)
    html = nurse.get("/console/").get_data(as_text=True)
    assert f'href="/console/trials/{world.trial_id}"' in html
    assert "Critical × 1" in html and "sev-critical" in html  # the word, and the colour
    assert re.search(r"Day \d+ of 7", html)
    fragment = nurse.get("/console/live/worklist")
    assert fragment.status_code == 200 and "Critical" in fragment.get_data(as_text=True)
    rows = _audit(app, "monitoring.worklist")
    assert len(rows) == 2 and rows[0].actor_role == "nurse" and rows[0].outcome == "success"


def test_trial_page_shows_criteria_in_words_charts_diary_and_is_audited(app, world):
    as_patient = world.as_patient
    created = as_patient.post(f"/trials/{world.trial_id}/entries", json=entry(score=3, function={"odi": 30}))
    entry_id = created.get_json()["id"]
    as_patient.patch(f"/trials/{world.trial_id}/entries/{entry_id}", json={"pain": {"score": 2}})
    doomed = as_patient.post(f"/trials/{world.trial_id}/entries", json=entry(score=7)).get_json()["id"]
    as_patient.delete(f"/trials/{world.trial_id}/entries/{doomed}", json={"reason": "typed twice"})
    drain(app)
    physician = console_user(app, world.physician)
    response = physician.get(f"/console/trials/{world.trial_id}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Pain relief" in html and "from the pre-trial baseline" in html
    assert "max_mme_increase_percent" not in html and "min_pain_relief_percent" not in html
    assert "Corrected (version 2)" in html and "Voided" in html and "typed twice" in html
    assert f'/console/trials/{world.trial_id}/charts.svg' in html
    assert "Record the decision" in html
    rows = _audit(app, "trial.page")
    assert rows and rows[-1].patient_id == world.patient_id and rows[-1].actor_role == "physician"
    svg = physician.get(f"/console/trials/{world.trial_id}/charts.svg")
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
    assert b"<svg" in svg.data and b"<script" not in svg.data.lower()
    assert _audit(app, "trial.charts")[-1].patient_id == world.patient_id


def test_downloads_pdf_fhir_csv(app, world):
    nurse = console_user(app, world.nurse)
    report = nurse.get(f"/console/trials/{world.trial_id}/report.pdf")
    assert report.status_code == 200 and report.data.startswith(b"%PDF")
    bundle = nurse.get(f"/console/trials/{world.trial_id}/fhir.json")
    assert bundle.status_code == 200 and bundle.get_json()["resourceType"] == "Bundle"
    table = nurse.get(f"/console/trials/{world.trial_id}/entries.csv")
    assert table.status_code == 200 and table.mimetype == "text/csv"
    actions = [row.action for row in _audit(app)]
    assert {"report.read", "fhir.export", "entries.export"} <= set(actions)


def test_another_clinics_trial_answers_the_consoles_404(app, world):
    stranger = console_user(app, world.other_nurse)
    for path in (f"/console/trials/{world.trial_id}", f"/console/trials/{world.trial_id}/charts.svg",
                 f"/console/trials/{world.trial_id}/report.pdf", f"/console/trials/{world.trial_id}/edit",
                 f"/console/patients/{world.patient_id}", "/console/trials/999999"):
        response = stranger.get(path)
        assert response.status_code == 404, path
        assert "Not found" in response.get_data(as_text=True) and response.mimetype == "text/html"
    refused = _audit(app, "trial.page")
    assert [(row.outcome, row.patient_id) for row in refused] == [("not_found", world.patient_id),
                                                                  ("not_found", None)]
    assert stranger.get("/console/no-such-page").status_code == 404


def test_a_nurse_cannot_record_the_decision(app, world):
    nurse = console_user(app, world.nurse)
    page = nurse.get(f"/console/trials/{world.trial_id}").get_data(as_text=True)
    assert "Only a physician on the care team records the decision" in page and "Record the decision" not in page
    path = f"/console/trials/{world.trial_id}/decision"
    response = nurse.post(path, {"decision": "implant", "rationale": "Looks good"},
                          page=f"/console/trials/{world.trial_id}")
    assert response.status_code == 403
    assert nurse.post(path, {}, page=f"/console/trials/{world.trial_id}").status_code == 403
    with app.app_context():
        assert db.session.execute(select(Decision)).first() is None
    assert _audit(app, "decision.create")[-1].outcome == "forbidden"


def test_the_physician_records_the_decision_once(app, world):
    physician = console_user(app, world.physician)
    page = f"/console/trials/{world.trial_id}"
    missing = physician.post(f"{page}/decision", {"decision": "implant"}, page=page)
    assert missing.status_code == 422
    kept = missing.get_data(as_text=True)
    assert "Not recorded" in kept and 'value="implant" required checked' in kept  # the choice is kept
    done = physician.post(f"{page}/decision", {"decision": "implant", "rationale": "Relief 60 %, function up."},
                          page=page)
    assert done.status_code == 302
    html = physician.get(page).get_data(as_text=True)
    assert "Decision recorded: Proceed to a permanent spinal cord stimulator implant." in html
    assert "Relief 60 %, function up." in html
    assert "Record the decision" not in html
    with app.app_context():
        assert db.session.execute(select(Decision)).scalar_one().decision == "implant"


def test_alerts_page_and_acknowledgement_with_a_note(app, world):
    world.as_patient.post(f"/trials/{world.trial_id}/entries", json=entry(temperature_c=38.6))
    drain(app)
    nurse = console_user(app, world.nurse)
    html = nurse.get("/console/alerts").get_data(as_text=True)
    assert "Possible infection" in html and "High" in html
    with app.app_context():
        alert_id = db.session.execute(select(Alert.id)).scalar_one()
    response = nurse.post(f"/console/alerts/{alert_id}/acknowledge", {"note": "Called, seen tomorrow",
                                                                       "back": "/console/alerts"},
                          page="/console/alerts")
    assert response.status_code == 302 and response.headers["Location"].endswith("/console/alerts")
    html = nurse.get("/console/alerts").get_data(as_text=True)
    assert "No open alerts." in html and "Called, seen tomorrow" in html and "Staff" in html
    with app.app_context():
        alert = db.session.get(Alert, alert_id)
        assert alert.status == "acknowledged" and alert.acknowledgement_note == "Called, seen tomorrow"


def test_register_a_patient_shows_the_code_as_text_and_qr(app, world):
    nurse = console_user(app, world.nurse)
    bad = nurse.post("/console/patients/new", {"display_name": "J. Doe", "mrn": "M-1", "date_of_birth": "2990-01-01",
                                               "email": "not-an-email", "timezone": "Mars/Base"},
                     page="/console/patients/new")
    assert bad.status_code == 422
    text = bad.get_data(as_text=True)
    assert "date_of_birth" in text and "email" in text and "Not an IANA timezone" in text
    assert "Unknown if the patient did not say" in text  # the sex for the record is asked, never defaulted
    response = nurse.post("/console/patients/new", {"display_name": "J. Doe", "mrn": "M-1",
                                                    "date_of_birth": "1960-05-01", "email": "jdoe@example.test",
                                                    "gender": "female", "timezone": "Europe/Paris"},
                          page="/console/patients/new")
    assert response.status_code == 303  # post/redirect/get: a reload never registers the patient twice
    shown = response.headers["Location"]
    html = nurse.get(shown).get_data(as_text=True)
    code = re.search(r"data-enrollment-code>([A-Z0-9-]+)<", html).group(1)
    assert f"data-enrollment-code>{code}<" in nurse.get(shown).get_data(as_text=True)  # a reload reads it again
    with app.app_context():
        assert len(db.session.execute(select(Patient.id).where(Patient.mrn == "M-1")).all()) == 1
    qr = html[html.index("<svg"):html.index("</svg>")]
    assert "<script" not in qr and "<style" not in qr  # allowed by a CSP without inline script or style
    enrolled = app.test_client().post("/api/v1/auth/enroll", json={"enrollment_code": code,
                                                                   "password": "a-long-password"})
    assert enrolled.status_code == 200
    with app.app_context():
        patient_id, gender = db.session.execute(select(Patient.id, Patient.gender).where(Patient.mrn == "M-1")).one()
    assert gender == "female"
    page = nurse.get(f"/console/patients/{patient_id}").get_data(as_text=True)
    assert "<dt>Sex for the medical record</dt><dd>Female</dd>" in page
    again = nurse.post(f"/console/patients/{patient_id}/code", page=f"/console/patients/{patient_id}",
                       follow_redirects=True)
    assert again.status_code == 200 and "data-enrollment-code" in again.get_data(as_text=True)
    other = console_user(app, world.nurse).get(f"/console/patients/{patient_id}/code")  # another browser: no code
    assert other.status_code == 302
    assert other.headers["Location"].endswith(f"/console/patients/{patient_id}#code-heading")
    assert _audit(app, "patient.enrollment_code")[-1].patient_id == patient_id


def test_new_trial_form_shows_defaults_and_creates_the_trial(app, world):
    nurse = console_user(app, world.nurse)
    form = nurse.get(f"/console/trials/new?patient_id={world.patient_id}").get_data(as_text=True)
    assert "Pain relief asked for (%)" in form and 'data-label="Default">50<' in form
    assert "Intrathecal" not in form.split("<h1>")[1].split("</h1>")[0]  # the SCS form, nothing of the others
    assert "Target and agent of the block" not in form and "Local anaesthetic" not in form
    start = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    end = (datetime.now(UTC) + timedelta(days=8)).strftime("%Y-%m-%dT%H:%M")
    fields = {"patient_id": str(world.patient_id), "therapy": "scs", "start_at": start, "end_at": end,
              "timezone": "UTC", "baseline.pain": "8", "baseline.mme": "30", "protocol.min_pain_relief_percent": "60",
              "care_team": [str(world.nurse_id)]}
    bad = nurse.post("/console/trials/new", {**fields, "baseline.pain": "eleven", "protocol.max_pgic": "9"},
                     page="/console/trials/new")
    assert bad.status_code == 422
    text = bad.get_data(as_text=True)
    assert "baseline.pain" in text and "protocol.max_pgic" in text
    assert "no physician is ticked" in text
    created = nurse.post("/console/trials/new", fields, page="/console/trials/new")
    assert created.status_code == 302
    with app.app_context():
        trial = db.session.execute(select(Trial).order_by(Trial.id.desc())).scalars().first()
        assert trial.protocol_overrides == {"min_pain_relief_percent": 60} and trial.care_team == [world.nurse_id]
        assert trial.start_at.strftime("%Y-%m-%dT%H:%M") == start
    page = nurse.get(created.headers["Location"]).get_data(as_text=True)
    assert "no physician is on the care team" in page


def test_a_diagnostic_block_is_registered_from_the_console(app, world):
    nurse = console_user(app, world.nurse)
    block = f"/console/trials/new?patient_id={world.patient_id}"
    start = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    fields = {"patient_id": str(world.patient_id), "therapy": "medial_branch_block", "start_at": start,
              "timezone": "UTC", "baseline.pain": "7", "care_team": [str(world.nurse_id)]}
    missing = nurse.post("/console/trials/new", fields, page=block)
    assert missing.status_code == 422 and "Required for a medial branch block" in missing.get_data(as_text=True)
    created = nurse.post("/console/trials/new", {**fields, "target.region": "lumbar", "target.side": "left",
                                                 "target.levels": "L4-L5, L5-S1", "agent": "lidocaine"}, page=block)
    assert created.status_code == 302, created.get_data(as_text=True)
    with app.app_context():
        trial = db.session.execute(select(Trial).order_by(Trial.id.desc())).scalars().first()
        assert (trial.therapy, trial.agent) == ("medial_branch_block", "lidocaine")
        assert trial.target == {"region": "lumbar", "side": "left", "levels": ["L4-L5", "L5-S1"]}
        assert trial.end_at - trial.start_at == timedelta(hours=8)  # the block's default diary
    page = nurse.get(created.headers["Location"]).get_data(as_text=True)
    assert "Diagnostic medial branch block" in page and "Relief after the block" in page
    chart = nurse.get(f"/console/trials/{trial.id}/charts.svg")
    assert chart.status_code == 200 and chart.mimetype == "image/svg+xml"


def test_edit_trial_moves_the_end_changes_the_team_and_cancels(app, world):
    nurse = console_user(app, world.nurse)
    edit = f"/console/trials/{world.trial_id}/edit"
    with app.app_context():
        trial = db.session.get(Trial, world.trial_id)
        new_end = (trial.end_at + timedelta(days=2)).astimezone(__import__("zoneinfo").ZoneInfo(trial.timezone))
    moved = nurse.post(edit, {"change": "end", "end_at": new_end.strftime("%Y-%m-%dT%H:%M")}, page=edit)
    assert moved.status_code == 302
    early = nurse.post(edit, {"change": "end", "end_at": "2001-01-01T10:00"}, page=edit)
    assert early.status_code == 422 and "after" in early.get_data(as_text=True)
    team = nurse.post(edit, {"change": "care_team", "care_team": [str(world.nurse_id)]}, page=edit)
    assert team.status_code == 302
    not_confirmed = nurse.post(edit, {"change": "cancel"}, page=edit)
    assert not_confirmed.status_code == 422
    cancelled = nurse.post(edit, {"change": "cancel", "confirm": "yes"}, page=edit)
    assert cancelled.status_code == 302
    with app.app_context():
        trial = db.session.get(Trial, world.trial_id)
        assert trial.closure == "cancelled" and trial.care_team == [world.nurse_id]
        assert trial.end_at.strftime("%Y-%m-%dT%H:%M") == new_end.astimezone(UTC).strftime("%Y-%m-%dT%H:%M")


def test_admin_creates_and_deactivates_staff_and_manages_webhooks(app, world):
    admin = console_user(app, world.admin)
    assert admin.get("/console/").headers["Location"].endswith("/console/admin/staff")
    made = admin.post("/console/admin/staff", {"email": "new.nurse@example.test", "role": "nurse",
                                               "display_name": "New Nurse", "password": "long-enough-pw"},
                      page="/console/admin/staff")
    assert made.status_code == 302
    short = admin.post("/console/admin/staff", {"email": "x@example.test", "role": "nurse", "password": "short"},
                       page="/console/admin/staff")
    assert short.status_code == 422 and "password" in short.get_data(as_text=True)
    with app.app_context():
        new_id = db.session.execute(select(User.id).where(User.email == "new.nurse@example.test")).scalar_one()
    unconfirmed = admin.post(f"/console/admin/staff/{new_id}/deactivate", page="/console/admin/staff")
    assert unconfirmed.status_code == 422 and "Tick the box to confirm" in unconfirmed.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, new_id).active is True  # one click does not deactivate
    assert admin.post(f"/console/admin/staff/{new_id}/deactivate", {"confirm": "yes"},
                      page="/console/admin/staff").status_code == 302
    with app.app_context():
        assert db.session.get(User, new_id).active is False
        admin_id = db.session.execute(select(User.id).where(User.email == world.admin)).scalar_one()
    refused = admin.post(f"/console/admin/staff/{admin_id}/deactivate", {"confirm": "yes"},
                         page="/console/admin/staff")
    assert refused.status_code == 302
    assert "You cannot deactivate your own account." in admin.get("/console/admin/staff").get_data(as_text=True)
    assert admin.post("/console/admin/staff/999999/deactivate", {"confirm": "yes"},
                      page="/console/admin/staff").status_code == 404
    app.config["WEBHOOK_ALLOW_PRIVATE"] = True
    try:
        bare = admin.post("/console/admin/webhooks", {"url": "http://127.0.0.1:9/bare"}, page="/console/admin/webhooks")
        assert bare.status_code == 201
        hook = admin.post("/console/admin/webhooks", {"url": "http://127.0.0.1:9/hook", "description": "EHR"},
                          page="/console/admin/webhooks")
    finally:
        app.config["WEBHOOK_ALLOW_PRIVATE"] = False
    assert hook.status_code == 201
    with app.app_context():
        stored = db.session.execute(select(Webhook).where(Webhook.description == "EHR")).scalar_one()
    assert stored.secret in hook.get_data(as_text=True)
    assert stored.secret not in admin.get("/console/admin/webhooks").get_data(as_text=True)  # shown once
    assert admin.post(f"/console/admin/webhooks/{stored.id}/remove", page="/console/admin/webhooks").status_code == 302
    with app.app_context():
        assert db.session.get(Webhook, stored.id).active is False


def test_roles_open_only_their_pages(app, world):
    nurse = console_user(app, world.nurse)
    assert nurse.get("/console/admin/staff").status_code == 403
    admin = console_user(app, world.admin)
    assert admin.get(f"/console/trials/{world.trial_id}").status_code == 403
    assert admin.get("/console/alerts").status_code == 403
    anonymous = app.test_client()
    response = anonymous.get(f"/console/trials/{world.trial_id}")
    assert response.status_code == 302
    assert f"next=/console/trials/{world.trial_id}" in response.headers["Location"]


def test_a_message_the_receiver_did_not_accept_says_when_it_is_tried_again(app, world):
    world.as_patient.post(f"/trials/{world.trial_id}/entries", json=entry(score=9, symptoms=["new_weakness"]))
    drain(app)
    retry_at = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(minutes=7)
    with app.app_context():
        waiting = db.session.execute(select(Notification).where(Notification.trial_id == world.trial_id)
                                     .order_by(Notification.id)).scalars().first()
        waiting.state, waiting.attempts, waiting.next_attempt_at, waiting.sent_at = "pending", 2, retry_at, None
        waiting.last_error = "SMTPServerDisconnected: Connection unexpectedly closed"
        zone = ZoneInfo(db.session.get(Trial, world.trial_id).timezone)
        db.session.commit()
    local = retry_at.astimezone(zone)
    said = local.strftime("%H:%M ") + (local.tzname() or "")
    if local.date() != datetime.now(UTC).astimezone(zone).date():
        said = local.strftime("%d %b %Y %H:%M ") + (local.tzname() or "")
    page = console_user(app, world.nurse).get(f"/console/trials/{world.trial_id}").get_data(as_text=True)
    assert f"not accepted yet; next try {said} (2 attempts)" in page
    assert "SMTPServerDisconnected" not in page  # the nurse reads when, not the program's words
